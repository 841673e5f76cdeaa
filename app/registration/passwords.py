"""Password hashing (passlib) and the password rules (NIST SP 800-63B).

:class:`PasswordHasher` wraps a passlib ``CryptContext``: argon2id by default
(argon2-cffi) with the parameters from settings; other schemes are accepted
for verification only and, with ``deprecated="auto"``, so are argon2 hashes
with other parameters: :meth:`PasswordHasher.verify` returns a new hash to
store whenever the stored one is out of date (rehash on sign-in).

:class:`PasswordPolicy` is SP 800-63B §3.1.1.2 (rev. 4 §5.1.1.2): a minimum
length, at least 64 characters accepted, no composition rules, Unicode
normalised (NFKC) before anything else, and refusal of passwords found in a
list of commonly used ones or containing the account's or the site's own
words. Each refusal says why.

Every password is NFKC-normalised the same way before hashing and before
verifying, so the same password typed on two keyboards matches.
"""

from __future__ import annotations

import gzip
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources

from passlib.context import CryptContext
from passlib.exc import UnknownHashError
from passlib.utils import MAX_PASSWORD_SIZE
from zope.interface import implementer

from app.registration.interfaces import IPasswordHasher, IPasswordPolicy
from app.registration.settings import Argon2Parameters

log = logging.getLogger(__name__)

COMMON_PASSWORDS_FILE = "common_passwords.txt.gz"

# Verification only (plus argon2 itself): hashes migrated from older systems
# still sign in, and are rehashed to argon2id then. bcrypt needs the `bcrypt`
# package; add it here if you migrate bcrypt hashes.
LEGACY_SCHEMES = ("pbkdf2_sha256", "pbkdf2_sha512", "sha512_crypt", "sha256_crypt")


def normalise(password: str) -> str:
    """NFKC, as SP 800-63B asks, so equivalent code point sequences match."""
    return unicodedata.normalize("NFKC", password)


@implementer(IPasswordHasher)
class PasswordHasher:
    def __init__(self, params: Argon2Parameters) -> None:
        self.params = params
        self.context = CryptContext(
            schemes=("argon2", *LEGACY_SCHEMES),
            default="argon2",
            deprecated="auto",
            argon2__type="ID",
            argon2__memory_cost=params.memory_cost,
            argon2__rounds=params.time_cost,
            argon2__parallelism=params.parallelism,
        )
        # What unknown emails verify against, so they cost what a real
        # verification costs: the configured parameters with a random salt
        # and a random digest (formatted by passlib), which no password
        # matches. Nothing is hashed at start-up.
        argon2 = self.context.handler("argon2")
        self._dummy = argon2(
            salt=secrets.token_bytes(argon2.default_salt_size),
            checksum=secrets.token_bytes(argon2.checksum_size),
            use_defaults=True,
        ).to_string()

    def hash(self, password: str) -> str:
        return self.context.hash(normalise(password))

    def verify(self, password: str, stored: str) -> tuple[bool, str | None]:
        """``(ok, new_hash)``; ``new_hash`` is set when ``stored`` needs upgrading."""
        secret = normalise(password)
        if len(secret) > MAX_PASSWORD_SIZE:
            # passlib refuses to verify a longer one (PasswordSizeError), and
            # no stored hash is of one: wrong, at a verification's cost. (NFKC
            # can make a form field of a few hundred characters thousands.)
            self.verify_dummy(secret)
            return False, None
        try:
            return self.context.verify_and_update(secret, stored)
        except (UnknownHashError, ValueError, TypeError) as exc:
            # A corrupt or foreign hash in the table: refuse, but pay the cost.
            log.warning("unusable password hash (%s); refusing", type(exc).__name__)
            self.verify_dummy(password)
            return False, None

    def verify_dummy(self, password: str) -> bool:
        """A verification that fails, at the cost of one (unknown accounts)."""
        self.context.verify(normalise(password)[:MAX_PASSWORD_SIZE], self._dummy)
        return False


@dataclass(frozen=True)
class Refusal:
    """Why a password is refused: a stable ``code`` and a sentence for the form."""

    code: str
    message: str


def load_common_passwords(name: str = COMMON_PASSWORDS_FILE) -> frozenset[str]:
    """The shipped list as a frozenset: gzip, a header ended by an empty line,
    then one password a line, stored NFKC-normalised and case-folded already
    (``tests/unit/registration/test_passwords.py`` checks it), so loading is a
    split: every process and every test app loads it at start-up."""
    raw = resources.files("app.registration").joinpath(name).read_bytes()
    _header, body = gzip.decompress(raw).decode("utf-8").split("\n\n", 1)
    return frozenset(body.splitlines())


_WORD_SPLIT = re.compile(r"[\W_]+", re.UNICODE)
MIN_WORD = 4  # pieces of an email's local part shorter than this are not checked


@implementer(IPasswordPolicy)
class PasswordPolicy:
    """SP 800-63B password rules; holds the common-password list: the one
    given, else the shipped one, read at the first check (a process that
    checks no password never reads it)."""

    def __init__(
        self,
        common: frozenset[str] | None = None,
        *,
        min_length: int = 8,
        max_length: int = 128,
        site_name: str = "",
    ) -> None:
        self._common = common
        self.min_length = min_length
        self.max_length = max_length
        self.site_words = tuple(
            w
            for w in {
                site_name.casefold().strip(),
                "".join(site_name.casefold().split()),
            }
            if len(w) >= 3
        )
        self.site_name = site_name

    @cached_property
    def common(self) -> frozenset[str]:
        return self._common if self._common is not None else load_common_passwords()

    def check(self, password: str, email: str | None = None) -> Refusal | None:
        """The first rule ``password`` breaks, or ``None`` when it is acceptable."""
        password = normalise(password)
        # SP 800-63B counts each Unicode code point as one character.
        if not password:
            return Refusal("required", "Enter a password.")
        if len(password) < self.min_length:
            return Refusal("too_short", f"Use at least {self.min_length} characters.")
        if len(password) > self.max_length:
            return Refusal("too_long", f"Use at most {self.max_length} characters.")
        folded = password.casefold()
        if folded in self.common:
            return Refusal(
                "common",
                "This password is one of the most commonly used passwords, "
                "so it is easy to guess. Choose another.",
            )
        if email and any(word in folded for word in email_words(email)):
            return Refusal(
                "contains_email", "Your password must not contain your email address."
            )
        if any(word in folded for word in self.site_words):
            return Refusal(
                "contains_site_name",
                "Your password must not contain the name of this site "
                f"({self.site_name}).",
            )
        return None


def email_words(email: str) -> Iterable[str]:
    """The local part of ``email`` and its longer pieces (``jane.doe`` -> ``jane``)."""
    local = normalise(email.strip()).rpartition("@")[0].casefold()
    if len(local) >= 3:
        yield local
    for piece in _WORD_SPLIT.split(local):
        if len(piece) >= MIN_WORD and piece != local:
            yield piece

"""Registration's rows on the request's database session (flush, never commit).

Tokens: the link carries ``secrets.token_urlsafe(32)`` (256 random bits); the
table keeps only its SHA-256, so a database leak gives no usable link. Using
a token deletes its row in one ``DELETE ... RETURNING``, so of two concurrent
clicks exactly one succeeds. Issuing a token also deletes expired ones (the
``authsite-purge-tokens`` command does it for every token table).

A password row whose hash is :data:`UNUSABLE_HASH` has no working password
(passlib identifies no scheme in it, so nothing verifies against it): that is
what an unverified account keeps once another channel proved its address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session
from zope.interface import implementer

from app.registration.interfaces import ICredentialStore
from app.registration.models import EmailToken, PasswordCredential

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")

#: The ``!`` prefix marks a locked password, as in Unix shadow files.
UNUSABLE_HASH = "!unverified-account-claimed"


def usable(hash: str) -> bool:
    return not hash.startswith("!")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def _user_pk(user_id: str | int) -> int | None:
    try:
        return int(user_id)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class TokenInfo:
    user_id: str
    purpose: str
    email: str
    expires_at: dt.datetime

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class Credential:
    user_id: str
    hash: str
    updated_at: dt.datetime

    @property
    def usable(self) -> bool:
        return usable(self.hash)


_PASSWORD_BY_USER = select(
    PasswordCredential.hash,
    PasswordCredential.updated_at,
).where(PasswordCredential.user_id == bindparam("user_id"))


@implementer(ICredentialStore)
class CredentialStore:
    def __init__(self, dbsession: Session) -> None:
        self.db = dbsession

    def savepoint(self):
        """A SAVEPOINT: a statement that fails inside undoes only what came after it."""
        return self.db.begin_nested()

    # passwords ---------------------------------------------------------------
    def get_password(self, user_id: str | int) -> Credential | None:
        pk = _user_pk(user_id)
        if pk is None:
            return None
        # A plain column select, built once: this is on every sign-in's path.
        row = self.db.execute(_PASSWORD_BY_USER, {"user_id": pk}).first()
        if row is None:
            return None
        return Credential(str(pk), row.hash, row.updated_at)

    def set_password(self, user_id: str | int, hash: str, now: dt.datetime) -> None:
        """Store a new hash (ending sessions is the caller's business: the
        core's ``end_user_sessions``)."""
        pk = _user_pk(user_id)
        row = self.db.get(PasswordCredential, pk)
        if row is None:
            self.db.add(PasswordCredential(user_id=pk, hash=hash, updated_at=now))
        else:
            row.hash = hash
            row.updated_at = now
        self.db.flush()

    def rehash(self, user_id: str | int, hash: str) -> None:
        """Replace an out-of-date hash of the same password (not a password change)."""
        self.db.execute(
            update(PasswordCredential)
            .where(PasswordCredential.user_id == _user_pk(user_id))
            .values(hash=hash)
        )

    def disable_password(self, user_id: str | int, now: dt.datetime) -> bool:
        """Make the user's password unusable.

        Keeps (or creates) the row with :data:`UNUSABLE_HASH`. Returns whether
        there was a usable password.
        """
        row = self.db.get(PasswordCredential, _user_pk(user_id))
        had_password = row is not None and usable(row.hash)
        self.set_password(user_id, UNUSABLE_HASH, now)
        return had_password

    # tokens -------------------------------------------------------------------
    def issue_token(
        self,
        user_id: str | int,
        purpose: str,
        email: str,
        now: dt.datetime,
        max_age: int,
    ) -> str:
        """Store a new token's hash; return the raw token (for the link only).

        Expired tokens of every user go first: they can never be used.
        """
        self.db.execute(delete(EmailToken).where(EmailToken.expires_at <= now))
        raw = secrets.token_urlsafe(32)
        self.db.add(
            EmailToken(
                user_id=_user_pk(user_id),
                purpose=purpose,
                token_hash=token_hash(raw),
                email=email,
                created_at=now,
                expires_at=now + dt.timedelta(seconds=max_age),
            )
        )
        self.db.flush()
        return raw

    def peek_token(self, raw: str, purpose: str) -> TokenInfo | None:
        if not isinstance(raw, str) or not _TOKEN_SHAPE.fullmatch(raw):
            return None
        row = self.db.scalars(
            select(EmailToken).where(
                EmailToken.token_hash == token_hash(raw), EmailToken.purpose == purpose
            )
        ).first()
        if row is None:
            return None
        return TokenInfo(str(row.user_id), row.purpose, row.email, row.expires_at)

    def use_token(self, raw: str, purpose: str) -> TokenInfo | None:
        """Delete and return the token (single use), or None if there is none."""
        if not isinstance(raw, str) or not _TOKEN_SHAPE.fullmatch(raw):
            return None
        row = self.db.execute(
            delete(EmailToken)
            .where(
                EmailToken.token_hash == token_hash(raw), EmailToken.purpose == purpose
            )
            .returning(
                EmailToken.user_id,
                EmailToken.purpose,
                EmailToken.email,
                EmailToken.expires_at,
            )
        ).first()
        if row is None:
            return None
        expires = row.expires_at
        if expires.tzinfo is None:  # RETURNING bypasses nothing, but be safe on SQLite
            expires = expires.replace(tzinfo=dt.UTC)
        return TokenInfo(str(row.user_id), row.purpose, row.email, expires)

    def delete_tokens(self, user_id: str | int, purpose: str) -> None:
        self.db.execute(
            delete(EmailToken).where(
                EmailToken.user_id == _user_pk(user_id), EmailToken.purpose == purpose
            )
        )

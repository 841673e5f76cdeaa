"""The email provider: sign in with a single-use link sent by mail (``type: "email"``).

``POST signin/<id>`` with ``email`` (CSRF already checked):

1. normalises the address as Auth.js does (§8: NFKC, trimmed, lower-cased,
   no ``"``, exactly one ``@``, the domain cut at the first ``,``) and,
   beyond Auth.js, refuses whitespace and control characters, which could
   otherwise reach a mail header, and makes it ASCII (:func:`ascii_email`:
   the domain in its IDNA form, a local part beyond ASCII refused), as mail
   goes out without SMTPUTF8 and the users table compares ``lower(email)``,
   which folds only ASCII on SQLite;
2. asks the ``signin`` callbacks, with ``email={"verificationRequest": True}``
   (``False`` -> ``AccessDenied``, a string -> redirect there);
3. deletes the address's older unused tokens (a new link voids the old
   ones) and stores ``sha256_hex(token + secret)`` (never the token itself)
   with the address and an expiry (``max_age``, default 10 minutes where
   Auth.js has 24 h) through the adapter;
4. mails ``B/callback/<id>?callbackUrl=..&token=..&email=..`` on the
   configured origin (``auth.url``, never the request's ``Host``; see
   :attr:`ProviderContext.public_origin`) (plain text and
   HTML, templates ``app.auth:templates/providers/email_message.*.jinja2``)
   through :func:`app.mail.send_mail`: queued in the request's transaction
   when ``mail.queue_path`` is set (production), so a rolled-back request
   mails nothing; without a queue (development, tests) sent at once, where
   an SMTP failure is the ``Configuration`` error redirect, not a 500;
5. redirects to ``verify-request?provider=<id>&type=email&email=<address>``
   (Auth.js sends no ``email``; the page names the address the person
   typed, which tells nothing about whether an account has it).

``GET callback/<id>`` uses the token (the adapter deletes the row as it
reads it, so a link works once) and hands the address to the core, whose
``resolve_user`` creates the user on first use or marks the address
verified. An unknown, used or expired token, or one for another address, is
``Verification`` (the 403 "link is no longer valid" page).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import string
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import idna
from pyramid.renderers import render

from app.auth.errors import AccessDenied, EmailSignInError, SignInError, Verification
from app.auth.interfaces import AdapterAccount, AdapterUser, VerificationTokenValue
from app.auth.providers.base import Provider, SignInOutcome
from app.auth.sessions import utcnow
from app.mail import Message, send_mail

if TYPE_CHECKING:
    from pyramid.response import Response

    from app.auth.providers.base import ProviderContext

log = logging.getLogger(__name__)

# Auth.js: 86400 s. Ten minutes here, as OWASP ASVS 5.0 asks of out-of-band
# codes; max_age=86400 restores Auth.js's lifetime.
DEFAULT_MAX_AGE = 10 * 60
MAX_EMAIL_LENGTH = 254
MAX_TOKEN_LENGTH = 512
TEXT_TEMPLATE = "app.auth:templates/providers/email_message.txt.jinja2"
HTML_TEMPLATE = "app.auth:templates/providers/email_message.html.jinja2"


class InvalidEmail(ValueError):
    """The submitted address cannot be used; the message says why (no address in it)."""


#: Why :func:`ascii_email` refuses an address, in words for the person who typed it.
NON_ASCII_LOCAL_PART = (
    "Use an address with only ASCII letters, digits and symbols before the @: "
    "mail cannot be delivered to other addresses yet."
)
NO_IDNA_DOMAIN = "The domain after the @ is not a valid domain name."


def ascii_email(address: str) -> str:
    """``address`` as it is stored and mailed: ASCII, or :class:`InvalidEmail`.

    The domain becomes its IDNA form (IDNA 2008 with UTS 46 mapping, so
    ``bob@Bücher.example`` is ``bob@xn--bcher-kva.example``); an ASCII domain
    and the local part stay as given. A local part beyond ASCII is refused:
    mail leaves without SMTPUTF8, and the unique index on ``lower(email)``
    would not fold its letters alike on every database (SQLite's ``lower()``
    folds ASCII only). The email provider, OAuth profiles and registration's
    forms all take an address through this function (the syntax checks are
    each one's own).
    """
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail("An email address needs a name, an @ and a domain.")
    if not local.isascii():
        raise InvalidEmail(NON_ASCII_LOCAL_PART)
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
            raise InvalidEmail(NO_IDNA_DOMAIN) from None
    return f"{local}@{domain}"


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def lower_ascii(text: str) -> str:
    """``text`` with A-Z lowered and nothing else: what every database's
    ``lower()`` folds alike (SQLite's folds no more), so an address lowered
    here is found, and refused as a twin, by the unique index's rule."""
    return text.translate(_ASCII_LOWER)


def normalize_email(value: object) -> str:
    """Auth.js's default ``normalizeIdentifier``, refusing what could break a
    header, then made ASCII by :func:`ascii_email`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidEmail("no email address given")
    text = unicodedata.normalize("NFKC", value).strip().lower()
    if '"' in text:
        raise InvalidEmail("quoted local parts are not accepted")
    parts = text.split("@")
    if len(parts) != 2:
        raise InvalidEmail("an email address has exactly one @")
    local, domain = parts[0], parts[1].split(",")[0]
    if not local or not domain:
        raise InvalidEmail("an email address needs a name and a domain")
    if any(
        ch.isspace() or unicodedata.category(ch).startswith("C")
        for ch in local + domain
    ):
        raise InvalidEmail("whitespace or control characters in the address")
    email = ascii_email(f"{local}@{domain}")
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidEmail("the address is too long")
    return email


def hash_token(token: str, secret: str) -> str:
    """What is stored for a token: ``sha256_hex(token + secret)``, as Auth.js."""
    return hashlib.sha256((token + secret).encode()).hexdigest()


@dataclass(frozen=True)
class VerificationRequest:
    """One sign-in link to deliver; what a custom ``send`` receives."""

    identifier: str
    url: str
    expires: dt.datetime
    provider: Email
    host: str
    brand_color: str = "#2563eb"


Sender = Callable[[Any, VerificationRequest], None]


class Email(Provider):
    """``Email(sender="Site <no-reply@example.org>", max_age=600)``.

    ``send(request, verification_request)`` replaces the built-in mail
    (Auth.js's ``sendVerificationRequest``); it must raise when it cannot
    deliver, so the person is told.
    """

    type: ClassVar[str] = "email"
    template: ClassVar[str] = "app.auth:templates/providers/email.jinja2"
    callback_methods: ClassVar[tuple[str, ...]] = ("GET",)

    def __init__(
        self,
        *,
        id: str = "email",
        name: str = "Email",
        sender: str | None = None,
        max_age: int = DEFAULT_MAX_AGE,
        send: Sender | None = None,
    ) -> None:
        super().__init__(id, name)
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 60:
            raise ValueError(f"provider {id}: max_age must be at least 60 seconds")
        if send is not None and not callable(send):
            raise TypeError(f"provider {id}: send must be callable")
        if sender is not None and any(c in sender for c in "\r\n"):
            raise ValueError(f"provider {id}: sender must be one line")
        self.sender = sender
        self.max_age = max_age
        self.send = send or self.send_mail

    # POST signin/<id> -------------------------------------------------------------
    def begin(self, flow: ProviderContext) -> Response:
        request = flow.request
        try:
            email = normalize_email(flow.body.get("email"))
        except InvalidEmail as exc:
            # Auth.js throws a plain error here; a typo is not a server fault,
            # so this lands on the sign-in page instead of the 500 error page.
            raise EmailSignInError(f"provider={self.id}: {exc}") from None
        store = flow.adapter
        user = store.get_user_by_email(email) or AdapterUser(
            id=str(uuid.uuid4()), email=email, email_verified=None
        )
        account = AdapterAccount(
            user_id=user.id, type="email", provider=self.id, provider_account_id=email
        )
        allowed = flow.callbacks.run_signin(
            request,
            user=user,
            account=account,
            profile=None,
            credentials=None,
            email={"verificationRequest": True},
        )
        if allowed is False:
            raise AccessDenied(f"signin callback refused a link for provider={self.id}")
        if isinstance(allowed, str):
            return flow.redirect(flow.safe_redirect(allowed))

        # First, so a refused host (HTTPBadRequest) leaves no token behind.
        origin = flow.public_origin
        token = secrets.token_hex(32)
        expires = utcnow() + dt.timedelta(seconds=self.max_age)
        # A new link voids the older unused ones for this address.
        store.delete_verification_tokens(email)
        store.create_verification_token(
            VerificationTokenValue(
                email, hash_token(token, flow.settings.csrf_secret), expires
            )
        )
        url = flow.url(
            "callback",
            self.id,
            query={
                "callbackUrl": flow.callback_url,
                "token": token,
                "email": email,
            },
            origin=origin,
        )
        verification = VerificationRequest(
            email,
            url,
            expires,
            self,
            urlsplit(origin).netloc,
            flow.settings.brand_color,
        )
        try:
            self.send(request, verification)
        except Exception as exc:  # noqa: BLE001 - any delivery failure is reported alike
            log.warning(
                "provider=%s could not send the sign-in link: %s: %s",
                self.id,
                exc.__class__.__name__,
                exc,
            )
            raise SignInError(
                f"provider={self.id}: sending the sign-in link failed"
            ) from None
        log.info("provider=%s sign-in link sent", self.id)
        return flow.redirect(
            flow.page_url(
                "verify_request",
                "verify-request",
                # Beyond Auth.js: the address, so the page can name it.
                {"provider": self.id, "type": "email", "email": email},
            )
        )

    def send_mail(self, request, verification: VerificationRequest) -> None:
        """The built-in message, handed to :func:`app.mail.send_mail`."""
        values = {
            "url": verification.url,
            "host": verification.host,
            "provider": self,
            "expires": verification.expires,
            "brand_color": verification.brand_color,
        }
        message = Message(
            subject=f"Sign in to {verification.host}",
            sender=self.sender,
            recipients=[verification.identifier],
            body=render(TEXT_TEMPLATE, values, request=request),
            html=render(HTML_TEMPLATE, values, request=request),
        )
        send_mail(request, message)

    # GET callback/<id> -------------------------------------------------------------
    def complete(self, flow: ProviderContext) -> SignInOutcome:
        token = flow.query.get("token")
        if not token or len(token) > MAX_TOKEN_LENGTH:
            # Auth.js reports a link without a token as a server error; it is
            # a broken link, so the person sees the "link is not valid" page.
            raise Verification(f"provider={self.id}: the link has no usable token")
        try:
            identifier = normalize_email(flow.query.get("email"))
        except InvalidEmail as exc:
            raise Verification(f"provider={self.id}: {exc}") from None
        store = flow.adapter
        found = store.use_verification_token(
            identifier, hash_token(token, flow.settings.csrf_secret)
        )
        if found is None:
            raise Verification(f"provider={self.id}: unknown or already used token")
        if found.expires < utcnow():
            raise Verification(f"provider={self.id}: token expired")
        if found.identifier != identifier:
            raise Verification(
                f"provider={self.id}: token was made for another address"
            )
        user = store.get_user_by_email(identifier) or AdapterUser(
            id=str(uuid.uuid4()), email=identifier, email_verified=None
        )
        account = AdapterAccount(
            user_id=user.id,
            type="email",
            provider=self.id,
            provider_account_id=identifier,
        )
        log.info("provider=%s link used", self.id)
        return SignInOutcome(user=user, account=account)

"""The registration flows as one plain service: signup, verification, reset, sign-in.

:class:`Registration` takes its collaborators (the core's adapter, the
credential store, hasher, rate limiter, postman, link builder, settings,
clock) and never touches ``request``; :func:`registration_factory` is the one
place that builds it from a request (``request.find_service(IRegistration)``).

Uniform answers, on purpose (no account enumeration):

- :meth:`Registration.authenticate`: an unknown email and a wrong password
  raise the same ``CredentialsSignin`` after the same work (one hash
  verification: unknown emails verify against a dummy hash).
- :meth:`Registration.signup` in ``mandatory`` mode: a taken email returns
  the same outcome as a fresh one, after the same hashing; the owner gets a
  notice instead of a second account.
- :meth:`Registration.request_reset`: returns nothing either way.

Mail is handed to :func:`app.mail.send_mail`, which queues it in the
request's transaction. :meth:`Registration.request_reset` and
:meth:`Registration.resend_verification` run when the queue is delivered
(mail tasks, see :mod:`app.registration.hooks`), so the forms asking for
them answer before any account is looked at.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from zope.interface import implementer

from app.auth import (
    AdapterUser,
    CredentialsSignin,
    IAdapter,
    InvalidEmail,
    UserChanges,
    ascii_email,
    end_user_sessions,
)
from app.registration.emails import Postman
from app.registration.errors import TokenExpired, TokenInvalid
from app.registration.interfaces import (
    ICredentialStore,
    IPasswordHasher,
    IRateLimiter,
    IRegistration,
)
from app.registration.models import RESET, VERIFY
from app.registration.passwords import PasswordHasher
from app.registration.ratelimit import RateLimiter, account_key
from app.registration.settings import RegistrationSettings
from app.registration.store import CredentialStore, TokenInfo, utcnow

log = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 254


class Links(Protocol):
    def verify(self, token: str) -> str: ...
    def reset(self, token: str) -> str: ...
    def signin(self) -> str: ...
    def reset_request(self) -> str: ...


@dataclass(frozen=True)
class SignupOutcome:
    """``created`` (optional mode), ``taken`` (optional mode) or ``check_email``
    (mandatory mode, fresh or taken alike)."""

    status: str
    user: AdapterUser | None = None


@implementer(IRegistration)
class Registration:
    def __init__(
        self,
        *,
        adapter,
        store: CredentialStore,
        hasher: PasswordHasher,
        limiter: RateLimiter,
        postman: Postman,
        links: Links,
        settings: RegistrationSettings,
        end_sessions: Callable[[str], int] = lambda user_id: 0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.adapter = adapter
        self.store = store
        self.hasher = hasher
        self.limiter = limiter
        self.postman = postman
        self.links = links
        self.settings = settings
        #: ends every session of a user (the core's ``end_user_sessions``)
        self.end_sessions = end_sessions
        self.clock = clock

    # signup ----------------------------------------------------------------------
    def signup(self, email: str, name: str | None, password: str) -> SignupOutcome:
        """Create the account (or, for a taken email, answer as the mode says).

        The insert comes first, and the look-up only when the core's unique
        index (``uq_users_email_lower``) refuses it: concurrent signups for
        one address then wait for each other's insert (SQLite's write lock,
        PostgreSQL's index entry). Looking first made the losers' inserts
        fail at once on SQLite (a transaction that has read may not start
        writing after another one committed), often enough for 20 browsers
        to exhaust pyramid_retry's attempts.
        """
        # Hash first, whatever happens next: in mandatory mode a taken email
        # must cost what a fresh one costs.
        hashed = self.hasher.hash(password)
        user = self._insert_user(email, name)
        if user is None:
            existing = self.adapter.get_user_by_email(email)
            assert existing is not None  # what the unique index found
            if not self.settings.mandatory_verification:
                log.info("signup refused: email taken user=%s", existing.id)
                return SignupOutcome("taken")
            log.info("signup with a taken email; owner notified user=%s", existing.id)
            self.postman.send(
                "account_exists",
                existing.email or email,
                signin_url=self.links.signin(),
                reset_url=self.links.reset_request(),
            )
            return SignupOutcome("check_email")
        now = self.clock()
        self.store.set_password(user.id, hashed, now)
        self._send_verification(user, email, now)
        log.info("signup user=%s mode=%s", user.id, self.settings.email_verification)
        status = "check_email" if self.settings.mandatory_verification else "created"
        return SignupOutcome(status, user)

    def _insert_user(self, email: str, name: str | None) -> AdapterUser | None:
        """The new user, or None when the address is taken (in a savepoint, so
        the refused insert leaves the request's transaction usable)."""
        try:
            with self.store.savepoint():
                return self.adapter.create_user(
                    email=email, name=name or None, email_verified=None
                )
        except IntegrityError:
            return None

    def _send_verification(
        self, user: AdapterUser, email: str, now: dt.datetime
    ) -> None:
        raw = self.store.issue_token(
            user.id, VERIFY, email, now, self.settings.verify_max_age
        )
        self.postman.send(
            "verify",
            email,
            link=self.links.verify(raw),
            hours=max(1, self.settings.verify_max_age // 3600),
            mandatory=self.settings.mandatory_verification,
        )

    # email verification ------------------------------------------------------------
    def check_token(self, raw: str, purpose: str) -> TokenInfo:
        """The token behind a link, still unused; raises TokenInvalid/TokenExpired."""
        info = self.store.peek_token(raw, purpose)
        if info is None:
            raise TokenInvalid()
        if info.expired(self.clock()):
            raise TokenExpired()
        return info

    def confirm_email(self, raw: str) -> AdapterUser:
        """Use a verification token: mark the address verified. Raises TokenError."""
        info = self._use(raw, VERIFY)
        user = self._owner(info)
        if user is None:
            # The account changed its address since the link was sent.
            raise TokenInvalid()
        if user.email_verified is None:
            user = self.adapter.update_user(
                user.id, UserChanges(email_verified=self.clock())
            )
        self.store.delete_tokens(user.id, VERIFY)
        log.info("email verified user=%s", user.id)
        return user

    def resend_verification(self, email: str) -> None:
        """Mail a new link if an unverified account has this email; silent otherwise."""
        user = self.adapter.get_user_by_email(email)
        if user is None or user.email_verified is not None or not user.email:
            return
        self.store.delete_tokens(user.id, VERIFY)
        self._send_verification(user, user.email, self.clock())

    # password reset -------------------------------------------------------------------
    def request_reset(self, email: str) -> None:
        """Mail a reset link if an account has this email; the caller answers the
        same either way ("if an account exists, we sent a link")."""
        user = self.adapter.get_user_by_email(email)
        if user is None or not user.email:
            log.info("reset requested for an unknown email")
            return
        now = self.clock()
        self.store.delete_tokens(user.id, RESET)  # only the newest link works
        raw = self.store.issue_token(
            user.id, RESET, user.email, now, self.settings.reset_max_age
        )
        self.postman.send(
            "reset",
            user.email,
            link=self.links.reset(raw),
            minutes=max(1, self.settings.reset_max_age // 60),
        )
        log.info("reset link issued user=%s", user.id)

    def reset_password(self, raw: str, password: str) -> AdapterUser:
        """Use a reset token: set the password and end every session of the user.

        Sessions of both strategies end through the core's session registry
        (``end_user_sessions``). The link proved control of the address, so
        it also counts as verifying it. Raises TokenError.
        """
        hashed = self.hasher.hash(password)
        info = self._use(raw, RESET)
        user = self._owner(info)
        if user is None:
            raise TokenInvalid()
        now = self.clock()
        self.store.set_password(user.id, hashed, now)
        ended = self.end_sessions(user.id)
        self.store.delete_tokens(user.id, RESET)
        if user.email_verified is None:
            user = self.adapter.update_user(user.id, UserChanges(email_verified=now))
        log.info("password reset user=%s sessions_ended=%s", user.id, ended)
        return user

    def _owner(self, info: TokenInfo) -> AdapterUser | None:
        """The user a link was made for, if the address it was mailed to is
        still theirs: by the unique index's rule (``lower(email)`` in SQL, the
        adapter's look-up), not Python's, which folds letters a database's
        ``lower()`` may not (``casefold()`` took "ss@..." for "ß@...")."""
        user = self.adapter.get_user_by_email(info.email)
        return user if user is not None and user.id == info.user_id else None

    def _use(self, raw: str, purpose: str) -> TokenInfo:
        info = self.store.use_token(raw, purpose)
        if info is None:
            raise TokenInvalid()
        if info.expired(self.clock()):
            raise TokenExpired()
        return info

    # an address proven by another channel -----------------------------------------
    def account_claimed(self, user: AdapterUser, provider_id: str) -> None:
        """``user``'s never-verified address was just proven by ``provider_id``.

        Whoever signed up without confirming the address may not own it (an
        attacker pre-registering a victim's address), so the password chosen
        then stops working; the row stays, with an unusable hash, until the
        owner sets a password through a reset link. The owner is told by
        mail. (The core has already unlinked the account's OAuth accounts and
        ended its sessions, both strategies, through its session registry.)
        """
        had_password = self.store.disable_password(user.id, self.clock())
        log.info(
            "unverified account claimed user=%s provider=%s password_dropped=%s",
            user.id,
            provider_id,
            had_password,
        )
        if user.email:
            self.postman.send(
                "account_claimed",
                user.email,
                had_password=had_password,
                reset_url=self.links.reset_request(),
            )

    # sign-in (the credentials provider's authorize) -----------------------------
    def authenticate(self, email: str, password: str, client: str) -> AdapterUser:
        """Check an email and password; return who it is or raise ``CredentialsSignin``.

        Throttled per client and per account, atomically: the attempt is
        counted before any hashing (the limiter's ``hit`` checks and counts in
        one step, so parallel guesses cannot all pass a check made before
        they are counted) and refused without hashing when over a limit. A
        success refunds the account's count by clearing it (``limits`` has no
        decrement); the per-client count is kept, so nobody resets it by
        signing in to an account of their own. Refusals: ``code="credentials"``
        (unknown email or wrong password, indistinguishable),
        ``"rate_limited"`` (with ``retry_after``) and, in mandatory mode, after
        a correct password, ``"email_unverified"``.
        """
        email = email.strip() if isinstance(email, str) else ""
        password = password if isinstance(password, str) else ""
        # As stored since addresses are made ASCII (an IDN domain typed in
        # Unicode finds its account); an address that has no ASCII form is
        # looked up as typed, and so is the typed form of one that has: a row
        # stored before (e.g. "Élodie@...", "bob@Bücher.example") signs in
        # with exactly its address. Both look-ups run whenever they differ,
        # found or not, so the work tells nothing.
        try:
            stored = ascii_email(email)
        except InvalidEmail:
            stored = email
        account = account_key(stored)
        wait = self.limiter.attempt(("signin_ip", client), ("signin_account", account))
        if wait is not None:
            raise CredentialsSignin(code="rate_limited", retry_after=wait)

        user = None
        if email and len(email) <= MAX_EMAIL_LENGTH:
            found = [
                self.adapter.get_user_by_email(e)
                for e in dict.fromkeys((stored, email))
            ]
            user = next((u for u in found if u is not None), None)
        # The credential query runs for unknown emails too (it finds nothing),
        # so both branches do the same database work.
        credential = self.store.get_password(user.id if user is not None else 0)
        # Unknown email, an account without a password (OAuth/email only) or
        # with its password dropped: verify against the dummy hash so each
        # costs one verification and answers like a wrong password.
        if credential is None or not credential.usable:
            ok, new_hash = self.hasher.verify_dummy(password), None
        else:
            ok, new_hash = self.hasher.verify(password, credential.hash)
        if not ok:
            log.info("sign-in refused")
            raise CredentialsSignin()
        assert user is not None and credential is not None
        self.limiter.clear("signin_account", account)
        if new_hash is not None:
            self.store.rehash(user.id, new_hash)
            log.info("password rehashed user=%s", user.id)
        if self.settings.mandatory_verification and user.email_verified is None:
            log.info("sign-in waits for email verification user=%s", user.id)
            raise CredentialsSignin(code="email_unverified")
        return user


def request_tools(request) -> dict:
    """What registration's per-request services are built from, for ``request``."""
    from app.registration import registration_settings
    from app.registration.resources import RequestLinks

    settings = registration_settings(request)
    return {
        "adapter": request.find_service(IAdapter),
        "store": request.find_service(ICredentialStore),
        "hasher": request.find_service(IPasswordHasher),
        "limiter": request.find_service(IRateLimiter),
        "postman": Postman(request, settings.mail_sender, settings.site_name),
        "links": RequestLinks(request),
        "settings": settings,
    }


def registration_factory(context, request) -> Registration:
    """Build :class:`Registration` for one request (the only code touching it)."""
    return Registration(
        **request_tools(request),
        end_sessions=lambda user_id: end_user_sessions(request, user_id),
    )

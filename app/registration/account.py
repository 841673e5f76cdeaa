"""The account page's work: password, email, sign-in methods, deletion.

:class:`AccountService` is a plain service like
:class:`~app.registration.services.Registration`: collaborators in, no
``request`` inside; :func:`account_service` builds it for a request. The
few things that need the request itself are functions here:

- :func:`signed_in_at` and :func:`recently_signed_in`: when this request's
  session began (the JWT's ``auth_time`` claim, the database session's
  ``created``), for the "recent sign-in" that stands in for a password
  where a person has none (magic link or OAuth only);
- :func:`end_other_sessions`: after a password change, every other session
  of the person ends and this browser gets a fresh cookie (sessions end
  through the core's session registry, ``app.auth.end_user_sessions``).

Uniform answers: a change to an address another account holds answers, in
``mandatory`` mode, exactly as a change to a free one (the owner of the taken
address is mailed a notice instead); ``optional`` mode refuses it on the
form, as signup does.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from pyramid.security import remember
from sqlalchemy import column, select, table
from sqlalchemy.exc import IntegrityError

from app.auth import (
    AdapterAccount,
    AdapterUser,
    AuthError,
    IAdapter,
    UserChanges,
    auth_settings,
    end_user_sessions,
    secure_cookies,
)
from app.registration.emails import Postman
from app.registration.errors import (
    RegistrationError,
    TokenError,
    TokenExpired,
    TokenInvalid,
    TooManyAttempts,
)
from app.registration.models import EMAIL_CHANGE
from app.registration.passwords import PasswordHasher
from app.registration.ratelimit import RateLimiter, account_key
from app.registration.services import request_tools
from app.registration.settings import RegistrationSettings
from app.registration.store import CredentialStore, TokenInfo, utcnow

log = logging.getLogger(__name__)

#: The Auth.js session cookie (``__Secure-`` on https), whose database
#: session row tells when a database session began.
SESSION_COOKIE = "authjs.session-token"

# The core's accounts table, by name: registration does not import the core's models.
_ACCOUNTS = table(
    "accounts",
    column("userId"),
    column("type"),
    column("provider"),
    column("providerAccountId"),
)

#: names of the built-in provider types, when the settings give none
_TYPE_NAMES = {"github": "GitHub", "google": "Google", "email": "Email link"}
OAUTH_TYPES = ("oauth", "oidc", "github", "google")


class EmailTaken(RegistrationError):
    """The new address belongs to another account (now, or since the link was sent)."""


class WrongAccount(RegistrationError):
    """An email-change link followed while signed in to another account."""


class LastMethod(RegistrationError):
    """Unlinking would leave the account without a way to sign in."""


@dataclass(frozen=True)
class LinkedAccount:
    provider: str
    provider_account_id: str
    type: str
    name: str


@dataclass(frozen=True)
class ChangeOutcome:
    """``sent`` (a link went to the new address, or, in mandatory mode, the
    address was taken and its owner told), ``taken`` (optional mode) or
    ``same`` (the address is already the account's)."""

    status: str


# the request -----------------------------------------------------------------------
def signed_in_at(request) -> int | None:
    """When this request's session began (epoch seconds), or None.

    JWT: the ``auth_time`` claim, which the core keeps through every renewal
    and no callback can move. Database sessions: the session row's
    ``created``, found through the session cookie.
    """
    identity = request.identity
    if identity is None:
        return None
    auth_time = identity.claims.get("auth_time")
    if type(auth_time) is int:
        return auth_time
    if auth_settings(request).session_strategy != "database":
        return None
    name = ("__Secure-" if secure_cookies(request) else "") + SESSION_COOKIE
    token = request.cookies.get(name)
    if not token or len(token) > 255:
        return None
    found = request.find_service(IAdapter).get_session_and_user(token)
    if found is None or found[0].created is None or found[1].id != identity.id:
        return None
    return int(found[0].created.timestamp())


def recently_signed_in(request, now: float | None = None) -> bool:
    """Whether the session began within ``registration.reauth_max_age`` seconds."""
    from app.registration import registration_settings

    started = signed_in_at(request)
    if started is None:
        return False
    now = utcnow().timestamp() if now is None else now
    return now - started < registration_settings(request).reauth_max_age


def end_other_sessions(request, user_id: str) -> None:
    """End every session of ``user_id``; this browser gets a new one.

    Every session ends through the core's session registry (database rows
    at once; JWTs at once in this process, within
    ``auth.session.check_interval`` in others), this browser's too, and a
    fresh session (a new cookie and registry record, through
    :func:`pyramid.security.remember`) keeps it signed in.
    """
    ended = end_user_sessions(request, user_id)
    reissue_session(request, user_id)
    log.info("other sessions ended user=%s sessions=%s", user_id, ended)


def reissue_session(request, user_id: str) -> None:
    """Give this browser a new session cookie of ``user_id`` (fresh claims,
    a new registry record in place of its old one) with the response,
    whatever it is."""
    try:
        headers = remember(request, user_id)
    except AuthError as exc:  # a jwt callback of the application refused it
        log.warning("session not re-issued user=%s: %s", user_id, exc.type)
        return

    def set_cookies(request, response) -> None:
        response.headerlist.extend(headers)

    request.add_response_callback(set_cookies)


def sign_out_everywhere(request, user_id: str) -> None:
    """Before the account is deleted: every session of it ends (through the
    registry, so at once in this process; the records would go with the user
    row anyway, but other processes would only notice at their next check),
    and this browser's cookies go."""
    from pyramid.security import forget

    end_user_sessions(request, user_id)
    headers = forget(request)

    def clear_cookies(request, response) -> None:
        response.headerlist.extend(headers)

    request.add_response_callback(clear_cookies)


# the service -----------------------------------------------------------------------
class AccountService:
    def __init__(
        self,
        *,
        adapter,
        store: CredentialStore,
        hasher: PasswordHasher,
        limiter: RateLimiter,
        postman: Postman,
        links,
        settings: RegistrationSettings,
        provider_names: dict[str, str],
        magic_links: bool,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.adapter = adapter
        self.store = store
        self.hasher = hasher
        self.limiter = limiter
        self.postman = postman
        self.links = links
        self.settings = settings
        self.provider_names = provider_names
        self.magic_links = magic_links
        self.clock = clock

    # throttles -------------------------------------------------------------------
    def _consume(self, *pairs: tuple[str, str]) -> None:
        wait = self.limiter.attempt(*pairs)
        if wait is not None:
            raise TooManyAttempts(",".join(a for a, _ in pairs), wait)

    def throttle_account_mail(self, user: AdapterUser) -> None:
        """Count a change that mails the account's own address (a password
        change's notice), per account: only its owner, signed in, adds to
        that count, and it keeps an account whose address is someone else's
        (unverified) from mail-bombing them."""
        self._consume(("account_mail", f"user:{user.id}"))

    def throttle_email_change(self, user: AdapterUser, new_email: str) -> None:
        """Count an email-change request per account and per new address.

        Neither count is one a signed-out request adds to: the per-address
        count of reset, magic-link and resend requests (``mail_account`` on
        :func:`account_key`) is anyone's to fill, and must not hold back a
        change its owner made. The new address's inbox has a count of its
        own under ``mail_account``'s limits, of email changes to it from any
        account; the old address is told through the account's own limit.
        """
        self._consume(
            ("account_mail", f"user:{user.id}"),
            ("mail_account", f"email-change:{account_key(new_email)}"),
        )

    # passwords -------------------------------------------------------------------
    def has_password(self, user_id: str) -> bool:
        credential = self.store.get_password(user_id)
        return credential is not None and credential.usable

    def check_password(self, user: AdapterUser, password: str, client: str) -> bool:
        """Whether ``password`` is the account's, counted as a sign-in attempt.

        The same limits as the sign-in form (``signin_ip`` per client,
        ``signin_account`` per address): over either,
        :class:`TooManyAttempts` before any hashing. A success refunds the
        account's count, as a sign-in does.
        """
        key = account_key(user.email or f"user:{user.id}")
        self._consume(("signin_ip", client), ("signin_account", key))
        credential = self.store.get_password(user.id)
        if credential is None or not credential.usable:
            self.hasher.verify_dummy(password)
            return False
        ok, new_hash = self.hasher.verify(password, credential.hash)
        if not ok:
            log.info("account change refused: wrong password user=%s", user.id)
            return False
        self.limiter.clear("signin_account", key)
        if new_hash is not None:
            self.store.rehash(user.id, new_hash)
        return True

    def change_password(self, user: AdapterUser, password: str) -> None:
        """Store the new password; the caller ends the other sessions
        (:func:`end_other_sessions`)."""
        hashed = self.hasher.hash(password)
        self.store.set_password(user.id, hashed, self.clock())
        # A reset link mailed earlier would undo this change: it goes.
        self.store.delete_tokens(user.id, "reset")
        log.info("password changed user=%s", user.id)
        if user.email:
            self.postman.send(
                "password_changed",
                user.email,
                reset_url=self.links.reset_request(),
            )

    # email -----------------------------------------------------------------------
    def request_email_change(self, user: AdapterUser, new_email: str) -> ChangeOutcome:
        # "The same address" by the unique index's rule, lower(email) in SQL
        # (the look-up's), whatever the database folds: Python's casefold()
        # took "ss@..." for an account's "ß@..." that the index tells apart.
        existing = self.adapter.get_user_by_email(new_email)
        if existing is not None and existing.id == user.id:
            return ChangeOutcome("same")
        # Only the newest link works, whatever this request's outcome.
        self.store.delete_tokens(user.id, EMAIL_CHANGE)
        if existing is not None:
            if not self.settings.mandatory_verification:
                log.info("email change refused: address taken user=%s", user.id)
                return ChangeOutcome("taken")
            log.info(
                "email change to a taken address; owner notified user=%s owner=%s",
                user.id,
                existing.id,
            )
            self.postman.send(
                "email_change_taken",
                existing.email or new_email,
                signin_url=self.links.signin(),
                reset_url=self.links.reset_request(),
            )
        else:
            now = self.clock()
            raw = self.store.issue_token(
                user.id, EMAIL_CHANGE, new_email, now, self.settings.verify_max_age
            )
            self.postman.send(
                "email_change",
                new_email,
                link=self.links.email_change(raw),
                hours=max(1, self.settings.verify_max_age // 3600),
            )
            log.info("email change link issued user=%s", user.id)
        # The old address hears of it either way (its owner may be the one
        # asking, so the two cases must look alike there too).
        if user.email:
            self.postman.send(
                "email_change_requested",
                user.email,
                new_email=new_email,
                account_url=self.links.account(),
            )
        return ChangeOutcome("sent")

    def check_email_change(self, raw: str) -> TokenInfo:
        info = self.store.peek_token(raw, EMAIL_CHANGE)
        if info is None:
            raise TokenInvalid()
        if info.expired(self.clock()):
            raise TokenExpired()
        return info

    def confirm_email_change(self, raw: str, user: AdapterUser) -> AdapterUser:
        """Use the link of ``user`` (the signed-in person): the address changes.

        Raises :class:`WrongAccount` (the token stays usable),
        :class:`TokenError`, or :class:`EmailTaken` when another account took
        the address meanwhile (the token is used up).
        """
        info = self.check_email_change(raw)
        if info.user_id != str(user.id):
            raise WrongAccount()
        info = self.store.use_token(raw, EMAIL_CHANGE)
        if info is None:  # used by a concurrent request meanwhile
            raise TokenInvalid()
        if info.expired(self.clock()):
            raise TokenExpired()
        existing = self.adapter.get_user_by_email(info.email)
        if existing is not None and existing.id != user.id:
            raise EmailTaken()
        now = self.clock()
        try:
            with self.store.savepoint():
                changed = self.adapter.update_user(
                    user.id, UserChanges(email=info.email, email_verified=now)
                )
        except IntegrityError:  # taken between the look-up and the update
            raise EmailTaken() from None
        # Links mailed to the old address (verification, reset) are void.
        for purpose in ("verify", "reset", EMAIL_CHANGE):
            self.store.delete_tokens(user.id, purpose)
        if user.email:
            self.adapter.delete_verification_tokens(user.email.lower())
        log.info("email changed user=%s", user.id)
        if user.email:
            self.postman.send(
                "email_changed",
                user.email,
                new_email=info.email,
                reset_url=self.links.reset_request(),
            )
        return changed

    # sign-in methods ---------------------------------------------------------------
    def linked_accounts(self, user_id: str) -> list[LinkedAccount]:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return []
        rows = self.store.db.execute(
            select(
                _ACCOUNTS.c.type, _ACCOUNTS.c.provider, _ACCOUNTS.c.providerAccountId
            )
            .where(_ACCOUNTS.c.userId == pk)
            .order_by(_ACCOUNTS.c.provider, _ACCOUNTS.c.providerAccountId)
        ).all()
        return [
            LinkedAccount(
                provider=row.provider,
                provider_account_id=row.providerAccountId,
                type=row.type,
                name=self.provider_names.get(row.provider, row.provider),
            )
            for row in rows
            if row.type != "email"
        ]

    def methods_left(self, user: AdapterUser, without: LinkedAccount | None) -> int:
        """How many ways to sign in remain once ``without`` is unlinked."""
        count = sum(1 for a in self.linked_accounts(user.id) if a != without) + int(
            self.has_password(user.id)
        )
        if self.magic_links and user.email and user.email_verified is not None:
            count += 1
        return count

    def unlink(
        self, user: AdapterUser, provider: str, account_id: str
    ) -> LinkedAccount:
        """Unlink one of ``user``'s accounts; :class:`LookupError` if not theirs,
        :class:`LastMethod` if nothing else would sign them in."""
        found = [
            a
            for a in self.linked_accounts(user.id)
            if a.provider == provider and a.provider_account_id == account_id
        ]
        if not found:
            raise LookupError(provider)
        if self.methods_left(user, found[0]) < 1:
            raise LastMethod()
        self.adapter.unlink_account(provider, account_id)
        log.info("unlinked provider=%s user=%s", provider, user.id)
        return found[0]

    def account_linked(self, user: AdapterUser, account: AdapterAccount) -> None:
        """Tell the owner a new sign-in method was linked to their account."""
        if not user.email or account.type == "email":
            return
        self.postman.send(
            "account_linked",
            user.email,
            provider=self.provider_names.get(account.provider, account.provider),
            account_url=self.links.account(),
        )

    # deletion ------------------------------------------------------------------------
    def delete(self, user: AdapterUser) -> None:
        """Remove the user; the foreign keys (``ON DELETE CASCADE``) take its
        accounts, database sessions, password and tokens with it."""
        self.adapter.delete_user(user.id)
        if user.email:
            # pending magic links for the address would sign up a new account
            self.adapter.delete_verification_tokens(user.email.lower())
        log.info("account deleted user=%s", user.id)


# hooks into the core ---------------------------------------------------------------


def require_recent_signin_to_link(request, *, account=None, **kw) -> bool | str:
    """A ``signin`` callback: linking a new OAuth/OIDC account to the signed-in
    person needs a recent sign-in.

    The core links an account it does not know to whoever is signed in
    (Auth.js's rule). A borrowed or stolen session could so add the
    attacker's own provider account as a way in; here that needs a session
    younger than ``registration.reauth_max_age``. Otherwise the browser goes
    to the sign-in methods page, which says to sign in again first.
    """
    if account is None or getattr(account, "type", None) not in ("oauth", "oidc"):
        return True
    if request.identity is None:
        return True
    adapter = request.find_service(IAdapter)
    if adapter.get_user_by_account(account.provider, account.provider_account_id):
        return True  # a sign-in with a known account, not a new link
    if recently_signed_in(request):
        return True
    from app.registration.resources import RequestLinks

    log.info(
        "linking refused: no recent sign-in provider=%s user=%s",
        account.provider,
        request.identity.id,
    )
    return RequestLinks(request).methods(query={"link": "reauth"})


def mail_account_linked(event) -> None:
    """``AccountLinked``: mail the owner, unless the account came with a new user."""
    if event.is_new_user:
        return
    account_service(event.request).account_linked(event.user, event.account)


def provider_names(request) -> dict[str, str]:
    """Display names of the providers enabled by settings (``auth.providers``)."""
    names = {"credentials": "Email and password"}
    for ps in auth_settings(request).providers:
        names[ps.id] = ps.options.get("name") or _TYPE_NAMES.get(ps.type) or ps.id
    return names


def oauth_providers(request) -> list[tuple[str, str]]:
    """``(id, name)`` of the OAuth/OIDC providers enabled by settings."""
    names = provider_names(request)
    return [
        (ps.id, names[ps.id])
        for ps in auth_settings(request).providers
        if ps.type in OAUTH_TYPES
    ]


def account_service(request) -> AccountService:
    """Build :class:`AccountService` for one request."""
    return AccountService(
        **request_tools(request),
        provider_names=provider_names(request),
        magic_links=any(ps.type == "email" for ps in auth_settings(request).providers),
    )


__all__ = [
    "AccountService",
    "ChangeOutcome",
    "EmailTaken",
    "LastMethod",
    "LinkedAccount",
    "TokenError",
    "WrongAccount",
    "account_service",
    "end_other_sessions",
    "reissue_session",
    "recently_signed_in",
    "sign_out_everywhere",
    "signed_in_at",
]

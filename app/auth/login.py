"""Finishing a sign-in: Auth.js's ``handleAuthorized`` and ``handleLoginOrRegister``.

Once a provider's callback has established *who* is signing in
(:class:`SignInOutcome`), the core, the same way for every provider:

1. asks the ``signin`` callbacks (``False`` -> ``AccessDenied``, a string ->
   redirect there);
2. for OAuth/OIDC and email, finds or creates the user and links the account
   under Auth.js's rules (:func:`resolve_user`), first claiming a never
   verified account whose address the sign-in has just proven
   (:func:`_verify_email`);
3. issues the session cookie, fires ``SignedIn``, and redirects to the
   callback URL (or ``auth.pages.new_user`` for a new user).
"""

from __future__ import annotations

import dataclasses
import logging

from pyramid.httpexceptions import HTTPFound

from app.auth.errors import AccessDenied, OAuthAccountNotLinked
from app.auth.events import (
    AccountLinked,
    SignedIn,
    UnverifiedAccountClaimed,
    UserCreated,
)
from app.auth.flow import AuthFlow
from app.auth.interfaces import AdapterAccount, AdapterUser, UserChanges
from app.auth.providers.base import SignInOutcome
from app.auth.providers.email import lower_ascii
from app.auth.sessions import utcnow
from app.text import without_unsafe_characters

log = logging.getLogger(__name__)


def finish_sign_in(
    flow: AuthFlow, provider, outcome: SignInOutcome, *, callback_url: str | None = None
) -> HTTPFound:
    """Finish a sign-in; ``callback_url`` (already through the redirect
    rule) replaces the request's callback URL, for :func:`app.auth.sign_in`."""
    request = flow.request
    callbacks = flow.core.callbacks
    allowed = callbacks.run_signin(
        request,
        user=outcome.user,
        account=outcome.account,
        profile=outcome.profile,
        credentials=outcome.extra.get("credentials"),
        email=outcome.extra.get("email"),
    )
    if allowed is False:
        raise AccessDenied(f"signin callback refused provider={provider.id}")
    if isinstance(allowed, str):
        return flow.redirect(flow.safe_redirect(allowed))

    if provider.type in ("oauth", "oidc", "email"):
        outcome = resolve_user(flow, provider, outcome)

    started = flow.core.sessions.start(
        request,
        flow.session_adapter,
        flow.session_cookie,
        outcome.user,
        account=outcome.account,
        profile=outcome.profile,
        is_new_user=outcome.is_new_user,
        strategy=outcome.strategy,
        client=flow.client,
    )
    flow.set_cookies.extend(started.set_cookies)
    log.info(
        "signed in provider=%s user=%s new=%s",
        provider.id,
        outcome.user.id,
        outcome.is_new_user,
    )
    request.registry.notify(
        SignedIn(
            request, outcome.user, outcome.account, outcome.profile, outcome.is_new_user
        )
    )
    target = callback_url or flow.callback_url
    if outcome.is_new_user and "new_user" in flow.settings.pages:
        target = flow.page_url("new_user", "", {"callbackUrl": target})
    return flow.redirect(target)


def _current_user_id(flow: AuthFlow) -> str | None:
    identity = flow.identity
    return identity.id if identity else None


def resolve_user(flow: AuthFlow, provider, outcome: SignInOutcome) -> SignInOutcome:
    """Find or create the user behind an OAuth/OIDC or email sign-in (§7, §8)."""
    store = flow.adapter
    request = flow.request
    account = outcome.account
    assert account is not None
    current = _current_user_id(flow)
    profile_user = outcome.user

    if account.type == "email":
        email = (profile_user.email or "").lower()
        now = utcnow()
        user = store.get_user_by_email(email)
        if user is None:
            user = store.create_user(email=email, name=None, email_verified=now)
            request.registry.notify(UserCreated(request, user))
            return dataclasses.replace(
                outcome,
                user=user,
                is_new_user=True,
                account=dataclasses.replace(account, user_id=user.id),
            )
        # Auth.js (handle-login.ts): following a link for another user's
        # address switches to that user; the new session replaces the old one.
        user = _verify_email(flow, store, user, provider.id, now)
        return dataclasses.replace(
            outcome, user=user, account=dataclasses.replace(account, user_id=user.id)
        )

    linked = store.get_user_by_account(account.provider, account.provider_account_id)
    if linked is not None:
        if current is not None and current != linked.id:
            raise OAuthAccountNotLinked("account is linked to another user")
        return dataclasses.replace(
            outcome,
            user=linked,
            account=dataclasses.replace(account, user_id=linked.id),
        )

    if current is not None:
        user = store.get_user(current)
        if user is None:  # signed in as a user that no longer exists
            raise AccessDenied("session user not found")
        return _link(flow, store, outcome, user)

    # The provider sets the email only when it has verified the address
    # (see OAuth2.outcome): an unverified one never reaches this point.
    # ASCII letters only, as the provider did (Python's lower() folds letters
    # SQLite's lower(), the unique index's rule, does not).
    email = lower_ascii(profile_user.email or "") or None
    if email is not None:
        by_email = store.get_user_by_email(email)
        if by_email is not None:
            if getattr(provider, "allow_dangerous_email_account_linking", False):
                by_email = _verify_email(flow, store, by_email, provider.id, utcnow())
                return _link(flow, store, outcome, by_email)
            raise OAuthAccountNotLinked(
                f"email of provider={provider.id} account belongs to user={by_email.id}"
            )

    # Beyond Auth.js (which stores null): the provider verified the address.
    user = store.create_user(
        email=email,
        name=_display_name(profile_user.name),
        image=profile_user.image,
        email_verified=utcnow() if email is not None else None,
    )
    request.registry.notify(UserCreated(request, user))
    outcome = _link(flow, store, outcome, user, is_new_user=True)
    return dataclasses.replace(outcome, is_new_user=True)


def _display_name(name: str | None) -> str | None:
    """A profile's name as stored: without control characters (a NUL is a
    ``DataError`` in PostgreSQL's text) or text-direction overrides."""
    return without_unsafe_characters(name) or None if name else None


def _verify_email(
    flow: AuthFlow, store, user: AdapterUser, provider_id: str, now
) -> AdapterUser:
    """Mark ``user``'s email verified: someone just proved they control it.

    If it was never verified, whoever created the account may not be its
    owner (anyone can sign up with someone else's address), so what they set
    up is not trusted: the account is *claimed* first. Its OAuth/OIDC
    accounts are unlinked and every session of it ends (both strategies,
    through the registry), then :class:`UnverifiedAccountClaimed` lets
    applications drop the rest (a password) and tell the owner.
    """
    if user.email_verified is None:
        request = flow.request
        unlinked = store.delete_user_accounts(user.id)
        ended = len(flow.core.sessions.end_sessions(store, user.id))
        log.warning(
            "unverified account claimed user=%s provider=%s: unlinked %d "
            "account(s), ended %d session(s)",
            user.id,
            provider_id,
            unlinked,
            ended,
        )
        request.registry.notify(UnverifiedAccountClaimed(request, user, provider_id))
    return store.update_user(user.id, UserChanges(email_verified=now))


def _link(
    flow: AuthFlow,
    store,
    outcome: SignInOutcome,
    user: AdapterUser,
    *,
    is_new_user: bool = False,
) -> SignInOutcome:
    assert outcome.account is not None
    account: AdapterAccount = dataclasses.replace(outcome.account, user_id=user.id)
    store.link_account(account)
    flow.request.registry.notify(
        AccountLinked(flow.request, user, account, outcome.profile, is_new_user)
    )
    log.info("linked provider=%s user=%s", account.provider, user.id)
    return dataclasses.replace(outcome, user=user, account=account)

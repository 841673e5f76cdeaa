"""The core's seams: the adapter (Auth.js's method set) and its value types.

An adapter stores users, accounts, sessions and verification tokens. The
core ships :class:`app.auth.adapter.SQLAlchemyAdapter`; an application may
register another with ``config.register_service_factory(factory, IAdapter)``.
Values cross the seam as the frozen dataclasses below, never ORM objects, so
an adapter can be backed by anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from zope.interface import Attribute, Interface


@dataclass(frozen=True)
class AdapterUser:
    id: str
    email: str | None
    name: str | None = None
    image: str | None = None
    email_verified: dt.datetime | None = None


@dataclass(frozen=True)
class AdapterAccount:
    user_id: str
    type: str  # "oauth", "oidc", "email", "credentials"
    provider: str
    provider_account_id: str
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: int | None = None
    id_token: str | None = None
    scope: str | None = None
    token_type: str | None = None
    session_state: str | None = None


@dataclass(frozen=True)
class AdapterSession:
    session_token: str
    user_id: str
    expires: dt.datetime
    #: when the session began (the sign-in), for ``auth.session.absolute_max_age``;
    #: None for a row written without it (e.g. by an Auth.js app on one database)
    created: dt.datetime | None = None


@dataclass(frozen=True)
class VerificationTokenValue:
    identifier: str
    token: str  # as stored: sha256_hex(raw token + secret)
    expires: dt.datetime


@dataclass(frozen=True)
class UserChanges:
    """Fields to change in :meth:`IAdapter.update_user`; ``None`` leaves a field alone."""

    name: str | None = None
    email: str | None = None
    image: str | None = None
    email_verified: dt.datetime | None = None


class IAdapter(Interface):
    """Auth.js's adapter methods, in Python spelling."""

    def create_user(email, name=None, image=None, email_verified=None):
        """Create and return an :class:`AdapterUser`."""

    def get_user(user_id):
        """The user with this id, or None."""

    def get_user_by_email(email):
        """The user whose email matches case-insensitively, or None."""

    def get_user_by_account(provider, provider_account_id):
        """The user linked to this provider account, or None."""

    def update_user(user_id, changes):
        """Apply :class:`UserChanges`; return the updated user."""

    def delete_user(user_id):
        """Delete the user with their accounts and sessions."""

    def link_account(account):
        """Store an :class:`AdapterAccount`."""

    def unlink_account(provider, provider_account_id):
        """Remove a provider account."""

    def delete_user_accounts(user_id):
        """Remove every provider account of a user; return how many went."""

    def create_session(session_token, user_id, expires, created=None):
        """Store and return an :class:`AdapterSession` (``created``: the sign-in time)."""

    def get_session_and_user(session_token):
        """``(AdapterSession, AdapterUser)`` or None."""

    def update_session(session_token, expires):
        """Move a session's expiry; return it, or None if it is gone."""

    def delete_session(session_token):
        """Remove one session."""

    def delete_user_sessions(user_id, keep=None):
        """Remove every session of a user except ``keep``; return how many went."""

    def create_verification_token(token):
        """Store a :class:`VerificationTokenValue`."""

    def use_verification_token(identifier, token):
        """Delete and return the matching token (single use), or None."""

    def delete_verification_tokens(identifier):
        """Remove every token of ``identifier`` (a new link voids older ones)."""


class IAuthCore(Interface):
    """The assembled core (settings, providers, callbacks), one per registry."""

    settings = Attribute("AuthSettings")
    providers = Attribute("ordered mapping of provider id -> Provider")

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
    #: the session's registry record (:class:`SessionRecord`), None for a row
    #: the core did not register (written by another app on one database)
    record_id: str | None = None
    #: the record's ``last_seen``
    last_seen: dt.datetime | None = None


@dataclass(frozen=True)
class SessionRecord:
    """One signed-in session in the registry, whatever its strategy.

    ``id`` is random (256 bits) and names the session: the JWT carries it as
    its ``sid`` claim; a database session's row points to it.
    ``subject`` is the user id as the session knows it; ``user_id`` is the
    same when the user is a row of ``users`` (so deleting the user deletes
    the record), None for a user an application keeps elsewhere.
    ``expires`` is the latest moment the session can still be valid.
    ``client`` is a short summary of the User-Agent ("Firefox on Linux"),
    ``address`` the client's address as the server saw it.
    """

    id: str
    subject: str
    created: dt.datetime
    last_seen: dt.datetime
    expires: dt.datetime
    strategy: str  # "jwt" or "database"
    client: str = ""
    address: str = ""
    user_id: str | None = None


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

    # The session registry (beyond Auth.js: see app.auth.sessions).
    def create_session_record(record, session_token=None):
        """Store a :class:`SessionRecord` (``session_token``: the database
        session it belongs to, if any); ``record.user_id`` is ignored: it is
        the subject when the subject is a row of ``users``, else None."""

    def get_session_record(record_id):
        """The :class:`SessionRecord` with this id, or None."""

    def list_session_records(subject, now):
        """The records of ``subject`` whose session may still be valid at
        ``now`` (newest first)."""

    def touch_session_record(record_id, last_seen, expires=None):
        """Set a record's ``last_seen`` (and ``expires`` when given)."""

    def delete_session_records(subject, record_ids=None, keep=None):
        """Remove ``subject``'s records (only ``record_ids`` when given, never
        ``keep``) with their database sessions; the subject's database
        sessions without a record go too when ``record_ids`` is None. Return
        the ids removed."""

    def delete_expired_session_records(now):
        """Remove records past their expiry; return how many went."""

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

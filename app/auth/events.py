"""Pyramid events the core fires; subscribe with ``config.add_subscriber``.

They mirror Auth.js's ``events`` option. Events are notifications: a
subscriber cannot veto (use the ``signin`` callback for that), and one that
raises fails the request, so keep subscribers small.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.auth.interfaces import AdapterAccount, AdapterUser


@dataclass
class SignedIn:
    request: Any
    user: AdapterUser
    account: AdapterAccount | None
    profile: Mapping[str, Any] | None
    is_new_user: bool


@dataclass
class SignedOut:
    """``token`` for JWT sessions, ``session_token`` for database sessions."""

    request: Any
    token: Mapping[str, Any] | None = None
    session_token: str | None = None


@dataclass
class UserCreated:
    request: Any
    user: AdapterUser


@dataclass
class AccountLinked:
    request: Any
    user: AdapterUser
    account: AdapterAccount
    profile: Mapping[str, Any] | None = None
    #: the account came with a user created by this sign-in (its first link)
    is_new_user: bool = False


@dataclass
class SessionUpdated:
    """A session was read and re-issued (``GET session``) or updated (``POST``)."""

    request: Any
    session: Mapping[str, Any]
    token: Mapping[str, Any] | None = None
    trigger: str | None = None


@dataclass
class UnverifiedAccountClaimed:
    """Someone proved control of an email address that an existing, never
    verified account holds (a magic link, or an OAuth/OIDC provider that
    verified the address).

    Whatever the unverified account set up before is not trusted: before
    firing this, the core has unlinked the account's OAuth/OIDC accounts and
    deleted its database sessions. Applications drop what they keep for it
    (``app.registration`` drops the password, ends JWT sessions and mails the
    owner). ``provider_id`` names the provider that proved the address.
    """

    request: Any
    user: AdapterUser
    provider_id: str

"""The Auth.js-compatible authentication core, a Pyramid add-on.

``config.include("app.auth")`` reads the ``auth.*`` settings, mounts the
HTTP API at ``auth.base_path`` (default ``/api/auth``), installs the security
policy and the SQLAlchemy adapter, and adds three directives:

- ``config.add_auth_provider(provider)``: enable a provider (a duplicate id is
  a start-up conflict);
- ``config.add_auth_callback(kind, fn)``: Auth.js's ``signin``, ``redirect``,
  ``jwt`` and ``session`` callbacks;
- ``config.add_credentials_error(code, message)``: the sign-in page's message
  for a ``CredentialsSignin`` code an ``authorize`` raises.

Every address the site accepts from a person goes through
:func:`ascii_email` (the domain in its IDNA form, a local part beyond ASCII
refused with :class:`InvalidEmail`): the email provider's and an
application's forms alike, so what is stored and mailed is ASCII.

The session registry (both strategies) is reached through
:func:`list_sessions`, :func:`current_session_id`, :func:`end_session` and
:func:`end_user_sessions`.

Everything an application may use is exported here; the rest is internal.
The core has no signup: users come from OAuth/email sign-in or from an
application's credentials ``authorize``.
"""

from __future__ import annotations

import logging
from typing import Any

from pyramid.config import PHASE3_CONFIG
from pyramid.exceptions import ConfigurationError
from pyramid.response import Response

from app.auth.adapter import SQLAlchemyAdapter
from app.auth.callbacks import KINDS as CALLBACK_KINDS
from app.auth.callbacks import Callbacks, default_redirect
from app.auth.core import AuthCore
from app.auth.errors import (
    AccessDenied,
    AuthError,
    CredentialsSignin,
    OAuthAccountNotLinked,
    RateLimited,
    Verification,
)
from app.auth.events import (
    AccountLinked,
    SessionUpdated,
    SignedIn,
    SignedOut,
    UnverifiedAccountClaimed,
    UserCreated,
)
from app.auth.interfaces import (
    AdapterAccount,
    AdapterSession,
    AdapterUser,
    IAdapter,
    IAuthCore,
    SessionRecord,
    UserChanges,
    VerificationTokenValue,
)
from app.auth.providers import (
    OIDC,
    CredentialField,
    Credentials,
    Email,
    GitHub,
    Google,
    OAuth2,
    Provider,
    VerificationRequest,
    provider_from_settings,
)
from app.auth.providers.email import InvalidEmail, ascii_email
from app.auth.sessions import MAX_SESSION_ID, Identity
from app.auth.settings import AuthSettings, parse_settings

__all__ = [
    "AccessDenied",
    "AccountLinked",
    "AdapterAccount",
    "AdapterSession",
    "AdapterUser",
    "AuthError",
    "AuthSettings",
    "CredentialField",
    "Credentials",
    "CredentialsSignin",
    "Email",
    "GitHub",
    "Google",
    "IAdapter",
    "Identity",
    "InvalidEmail",
    "OAuth2",
    "OAuthAccountNotLinked",
    "OIDC",
    "Provider",
    "RateLimited",
    "SessionRecord",
    "SessionUpdated",
    "SignedIn",
    "SignedOut",
    "UserChanges",
    "UnverifiedAccountClaimed",
    "UserCreated",
    "Verification",
    "VerificationRequest",
    "VerificationTokenValue",
    "ascii_email",
    "auth_settings",
    "current_session_id",
    "default_redirect",
    "end_session",
    "end_user_sessions",
    "list_sessions",
    "public_origin",
    "secure_cookies",
    "sign_in",
]

log = logging.getLogger(__name__)

PROVIDERS_KEY = "app.auth.providers"
CALLBACKS_KEY = "app.auth.callbacks"
CREDENTIALS_ERRORS_KEY = "app.auth.credentials_errors"
SETTINGS_KEY = "app.auth.settings"


def auth_settings(registry_or_request: Any) -> AuthSettings:
    """The parsed :class:`AuthSettings` of an app (pass a registry or a request)."""
    registry = getattr(registry_or_request, "registry", registry_or_request)
    return registry[SETTINGS_KEY]


def public_origin(request) -> str:
    """The origin for links that leave the request (mail): ``auth.url``.

    Never taken from request headers outside development, where it raises
    ``ConfigurationError`` if ``auth.url`` is unset; in development, the
    request's origin when its host is in ``auth.dev_hosts``, else
    ``HTTPBadRequest`` ("host not allowed for links").
    """
    return request.auth_flow.public_origin


def secure_cookies(request) -> bool:
    """Whether this request's cookies must be ``Secure`` (decided per request
    from the effective origin, the way the core decides for its own)."""
    return request.auth_flow.secure


def list_sessions(request, user_id: str) -> list[SessionRecord]:
    """The sessions of ``user_id`` that may still be valid, JWT and database
    alike, most recently seen first (compare their ``id`` with
    :func:`current_session_id` to mark "this device")."""
    flow = request.auth_flow
    return flow.core.sessions.list_sessions(flow.adapter, str(user_id))


def current_session_id(request) -> str | None:
    """The registry id of the session this request is signed in with, or None
    (signed out, or a session the registry does not know)."""
    return request.auth_flow.session.session_id


def end_session(request, user_id: str, session_id: str) -> bool:
    """End one session of ``user_id`` (its browser is signed out on its next
    request: at once in this process, within ``auth.session.check_interval``
    seconds in others). False when ``session_id`` is not one of ``user_id``'s
    sessions: nothing happens then."""
    if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SESSION_ID:
        return False
    flow = request.auth_flow
    ended = flow.core.sessions.end_sessions(flow.adapter, str(user_id), [session_id])
    return bool(ended)


def end_user_sessions(request, user_id: str, *, keep: str | None = None) -> int:
    """End every session of ``user_id`` except the one with id ``keep`` (pass
    :func:`current_session_id` to keep the caller's); return how many ended.

    For a password reset or change, a claimed account, an account about to
    be deleted. Database sessions the registry never saw end too.
    """
    flow = request.auth_flow
    return len(flow.core.sessions.end_sessions(flow.adapter, str(user_id), keep=keep))


def sign_in(
    request,
    provider_id: str,
    credentials: dict[str, str],
    callback_url: str | None = None,
) -> Response:
    """Sign in through a credentials provider, as its form would; return the redirect.

    This is the code path of ``POST callback/<id>`` minus the CSRF check
    (the caller has checked its own form): ``authorize``, the ``signin``
    callbacks, the session cookie, ``SignedIn``; it uses the request's own
    flow, with ``credentials`` and ``callback_url`` handed down rather than
    put in its place. Raises :class:`AuthError` (e.g. ``CredentialsSignin``)
    when refused.
    """
    from app.auth.login import finish_sign_in

    flow = request.auth_flow
    provider = flow.core.providers.get(provider_id)
    if not isinstance(provider, Credentials):
        raise ConfigurationError(f"no credentials provider {provider_id!r}")
    outcome = provider.check(request, credentials)
    target = flow.safe_redirect(callback_url or flow.origin)
    response = finish_sign_in(flow, provider, outcome, callback_url=target)
    return flow.finish(response)


def add_auth_provider(config, provider: Provider) -> None:
    """Enable ``provider``; two providers with one id conflict at start-up."""
    if not isinstance(provider, Provider):
        raise ConfigurationError(f"{provider!r} is not an app.auth Provider")

    def register() -> None:
        config.registry.setdefault(PROVIDERS_KEY, []).append(provider)

    intr = config.introspectable(
        "auth providers", provider.id, provider.name, "auth provider"
    )
    intr["type"] = provider.type
    config.action(("app.auth.provider", provider.id), register, introspectables=(intr,))


def add_auth_callback(config, kind: str, callback) -> None:
    """Add an Auth.js callback of ``kind`` (signin, redirect, jwt, session)."""
    if kind not in CALLBACK_KINDS:
        raise ConfigurationError(
            f"unknown auth callback kind {kind!r}; use one of {', '.join(CALLBACK_KINDS)}"
        )
    callback = config.maybe_dotted(callback)

    def register() -> None:
        config.registry.setdefault(CALLBACKS_KEY, {}).setdefault(kind, []).append(
            callback
        )

    config.action(None, register)


def add_credentials_error(config, code: str, message: str) -> None:
    """Give a ``CredentialsSignin`` code its own message on the sign-in page.

    ``authorize`` raising ``CredentialsSignin(code="locked")`` sends the
    browser to ``signin?error=CredentialsSignin&code=locked``; after
    ``config.add_credentials_error("locked", "This account is locked.")`` the
    page shows that text instead of the generic one. Adding a code twice is a
    conflict at start-up, unless one include overrides the other.
    """
    if not code or not message:
        raise ConfigurationError("add_credentials_error needs a code and a message")

    def register() -> None:
        config.registry.setdefault(CREDENTIALS_ERRORS_KEY, {})[code] = message

    config.action(("app.auth.credentials_error", code), register)


def _assemble(config) -> None:
    registry = config.registry
    settings: AuthSettings = registry[SETTINGS_KEY]
    providers = {p.id: p for p in registry.get(PROVIDERS_KEY, [])}
    callbacks = {k: tuple(v) for k, v in registry.get(CALLBACKS_KEY, {}).items()}
    mailing = [p.id for p in providers.values() if p.type == "email"]
    if mailing and settings.url is None and not settings.development:
        raise ConfigurationError(
            "setting auth.url (AUTH_URL): is required outside development when an "
            f"email provider is enabled ({', '.join(mailing)}): the sign-in links it "
            "mails must not be built from the request's Host header"
        )
    core = AuthCore(
        settings,
        providers,
        Callbacks(**callbacks),
        registry.get(CREDENTIALS_ERRORS_KEY, {}),
    )
    registry.registerUtility(core, IAuthCore)
    log.info(
        "auth core at %s: providers=%s strategy=%s",
        settings.base_path,
        ",".join(providers) or "none",
        settings.session_strategy,
    )


def includeme(config) -> None:
    settings = parse_settings(config.get_settings())
    config.registry[SETTINGS_KEY] = settings

    config.include("pyramid_jinja2")
    config.include("pyramid_services")
    config.include("app.resources")

    config.add_directive("add_auth_provider", add_auth_provider)
    config.add_directive("add_auth_callback", add_auth_callback)
    config.add_directive("add_credentials_error", add_credentials_error)

    from app.auth.derivers import authjs_view
    from app.auth.flow import AuthFlow
    from app.auth.resources import AuthRoot
    from app.auth.security import AuthSecurityPolicy

    config.add_view_deriver(authjs_view)
    config.add_request_method(AuthFlow, "auth_flow", reify=True)
    config.add_request_method(
        lambda request, *path, query=None: request.auth_flow.url(*path, query=query),
        "auth_url",
    )
    config.set_security_policy(AuthSecurityPolicy())
    config.register_service_factory(
        lambda context, request: SQLAlchemyAdapter(
            lambda: request.dbsession, request.registry.get("db_reads")
        ),
        IAdapter,
    )
    config.add_resource_child(settings.base_path, AuthRoot)

    for ps in settings.providers:
        config.add_auth_provider(provider_from_settings(ps, settings))

    config.action("app.auth.core", _assemble, args=(config,), order=PHASE3_CONFIG + 10)
    config.scan("app.auth.views")

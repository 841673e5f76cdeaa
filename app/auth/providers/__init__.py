"""Providers, and how settings alone build them (``auth.providers`` + ``auth.provider.<id>.*``)."""

from __future__ import annotations

from collections.abc import Callable

from pyramid.exceptions import ConfigurationError
from pyramid.path import DottedNameResolver

from app.auth.providers.base import Provider, SignInOutcome
from app.auth.providers.credentials import CredentialField, Credentials
from app.auth.providers.email import DEFAULT_MAX_AGE, Email, VerificationRequest
from app.auth.providers.github import GitHub
from app.auth.providers.google import Google
from app.auth.providers.oauth import OAuth2
from app.auth.providers.oidc import OIDC
from app.auth.providers.options import ProviderOptions
from app.auth.settings import AuthSettings, ProviderSettings

__all__ = [
    "Provider",
    "SignInOutcome",
    "Credentials",
    "CredentialField",
    "Email",
    "GitHub",
    "Google",
    "OAuth2",
    "OIDC",
    "VerificationRequest",
    "provider_from_settings",
    "FACTORIES",
]


def _credentials(ps: ProviderSettings, settings: AuthSettings) -> Provider:
    dotted = ps.options.get("authorize")
    if not dotted:
        raise ConfigurationError(
            f"setting auth.provider.{ps.id}.authorize: a dotted name "
            "(package.module:function) is required for a credentials provider set up "
            "by settings; or add it in code with config.add_auth_provider(Credentials(...))"
        )
    try:
        authorize = DottedNameResolver().resolve(dotted)
    except (ImportError, ValueError, AttributeError) as exc:
        raise ConfigurationError(
            f"setting auth.provider.{ps.id}.authorize: cannot import {dotted!r}: {exc}"
        ) from None
    fields = []
    for spec in ps.options.get("fields", "username password:password").split():
        name, _, ftype = spec.partition(":")
        autocomplete = {
            "password": "current-password",
            "email": "email",
            "username": "username",
        }.get(ftype or name)
        fields.append(
            CredentialField(name, name.capitalize(), ftype or "text", autocomplete)
        )
    return Credentials(
        authorize, fields, id=ps.id, name=ps.options.get("name", "Credentials")
    )


def _oauth_options(o: ProviderOptions) -> dict:
    """What every OAuth/OIDC provider reads from ``auth.provider.<id>.*``."""
    method = o.text("token_endpoint_auth_method", "client_secret_basic")
    kwargs = {
        "client_id": o.text("client_id", required=True),
        "client_secret": o.text("client_secret", required=method != "none"),
        "token_endpoint_auth_method": method,
        "allow_dangerous_email_account_linking": o.flag(
            "allow_dangerous_email_account_linking"
        ),
    }
    for key in ("name", "scope"):
        if o.text(key) is not None:
            kwargs[key] = o.text(key)
    checks = o.words("checks")
    if checks is not None:
        kwargs["checks"] = checks
    kwargs["checks_unsupported"] = o.flag("checks_unsupported")
    if (
        checks is not None
        and not {"pkce", "state"} & set(checks)
        and not kwargs["checks_unsupported"]
    ):
        raise o.error(
            "checks",
            "must include pkce or state (they bind the callback to the browser "
            "that started the sign-in); set auth.provider."
            f"{o.id}.checks_unsupported = true only if the provider supports neither",
        )
    params = o.params("authorization_params")
    if params:
        kwargs["authorization_params"] = params
    return kwargs


def _build(o: ProviderOptions, cls: type[Provider], **kwargs) -> Provider:
    try:
        return cls(id=o.id, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"settings auth.provider.{o.id}.*: {exc}") from None


def _oidc(ps: ProviderSettings, settings: AuthSettings) -> Provider:
    o = ProviderOptions(ps)
    kwargs = _oauth_options(o)
    for key in ("authorization_endpoint", "token_endpoint"):
        if o.text(key) is not None:
            kwargs[key] = o.text(key)
    return _build(o, OIDC, issuer=o.text("issuer", required=True), **kwargs)


def _google(ps: ProviderSettings, settings: AuthSettings) -> Provider:
    o = ProviderOptions(ps)
    kwargs = _oauth_options(o)
    if o.text("issuer") is not None:
        kwargs["issuer"] = o.text("issuer")
    return _build(o, Google, **kwargs)


def _github(ps: ProviderSettings, settings: AuthSettings) -> Provider:
    o = ProviderOptions(ps)
    kwargs = _oauth_options(o)
    for key in ("authorization_endpoint", "token_endpoint", "api_url"):
        if o.text(key) is not None:
            kwargs[key] = o.text(key)
    return _build(o, GitHub, **kwargs)


def _oauth(ps: ProviderSettings, settings: AuthSettings) -> Provider:
    o = ProviderOptions(ps)
    kwargs = _oauth_options(o)
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint"):
        kwargs[key] = o.text(key, required=True)
    return _build(o, OAuth2, **kwargs)


def _email(ps: ProviderSettings, settings: AuthSettings) -> Provider:
    o = ProviderOptions(ps)
    sender = o.text("from") or o.text("sender")
    return _build(
        o,
        Email,
        name=o.text("name", "Email"),
        sender=sender,
        max_age=o.integer("max_age", DEFAULT_MAX_AGE, minimum=60),
    )


FACTORIES: dict[str, Callable[[ProviderSettings, AuthSettings], Provider]] = {
    "credentials": _credentials,
    "email": _email,
    "github": _github,
    "google": _google,
    "oauth": _oauth,
    "oidc": _oidc,
}


def provider_from_settings(ps: ProviderSettings, settings: AuthSettings) -> Provider:
    factory = FACTORIES.get(ps.type)
    if factory is None:
        raise ConfigurationError(
            f"setting auth.provider.{ps.id}.type: unknown provider type {ps.type!r} "
            f"(known: {', '.join(sorted(FACTORIES))})"
        )
    return factory(ps, settings)

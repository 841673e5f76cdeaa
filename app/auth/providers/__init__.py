"""Providers, and how settings alone build them (``auth.providers`` + ``auth.provider.<id>.*``)."""

from __future__ import annotations

from collections.abc import Callable

from pyramid.exceptions import ConfigurationError
from pyramid.path import DottedNameResolver

from app.auth.providers.base import Provider, SignInOutcome
from app.auth.providers.credentials import CredentialField, Credentials
from app.auth.settings import AuthSettings, ProviderSettings

__all__ = [
    "Provider",
    "SignInOutcome",
    "Credentials",
    "CredentialField",
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
        autocomplete = {"password": "current-password", "email": "email"}.get(ftype or name)
        fields.append(CredentialField(name, name.capitalize(), ftype or "text", autocomplete))
    return Credentials(authorize, fields, id=ps.id, name=ps.options.get("name", "Credentials"))


FACTORIES: dict[str, Callable[[ProviderSettings, AuthSettings], Provider]] = {
    "credentials": _credentials,
}


def provider_from_settings(ps: ProviderSettings, settings: AuthSettings) -> Provider:
    factory = FACTORIES.get(ps.type)
    if factory is None:
        raise ConfigurationError(
            f"setting auth.provider.{ps.id}.type: unknown provider type {ps.type!r} "
            f"(known: {', '.join(sorted(FACTORIES))})"
        )
    return factory(ps, settings)

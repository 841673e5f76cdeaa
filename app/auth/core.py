"""The assembled core: settings, codec, providers and callbacks, one per registry."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from zope.interface import implementer

from app.auth.callbacks import Callbacks
from app.auth.cookies import PLAIN_NAMES, SECURE_NAMES
from app.auth.interfaces import IAuthCore
from app.auth.jwt import JWTCodec
from app.auth.providers.base import Provider
from app.auth.sessions import SessionChecks, SessionService
from app.auth.settings import AuthSettings


@implementer(IAuthCore)
class AuthCore:
    def __init__(
        self,
        settings: AuthSettings,
        providers: Mapping[str, Provider],
        callbacks: Callbacks,
        credentials_errors: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.providers = MappingProxyType(dict(providers))
        self.callbacks = callbacks
        #: The sign-in page's message for each ``CredentialsSignin`` code
        #: (``config.add_credentials_error``).
        self.credentials_errors = MappingProxyType(dict(credentials_errors or {}))
        self.codec = JWTCodec(settings.secrets)
        #: this process's memo of session registry look-ups (JWT sessions)
        self.session_checks = SessionChecks(settings.session_check_interval)
        self.sessions = SessionService(
            settings, self.codec, callbacks, self.session_checks
        )
        # Derive the session keys now, not on the first request.
        for names in (PLAIN_NAMES, SECURE_NAMES):
            self.codec.keys(names.session_token)


def get_core(request) -> AuthCore:
    """The core of the app serving ``request``."""
    return request.registry.getUtility(IAuthCore)

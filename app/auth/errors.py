"""Auth.js's error types, with the same ``type`` strings and kinds.

Every failure inside an action is raised as one of these and mapped to a
response in exactly one place (:mod:`app.auth.views`): a redirect to the
sign-in page (kind ``signIn``) or to the error page (kind ``error``) with
``?error=<type>``. Types that are not *client safe* are reported to the
browser as ``Configuration`` so no internal detail reaches a URL; the log
keeps the real reason.
"""

from __future__ import annotations

from typing import ClassVar


class AuthError(Exception):
    """Base of every error the core maps to an Auth.js answer."""

    type: ClassVar[str] = "AuthError"
    kind: ClassVar[str] = "error"  # "signIn" -> sign-in page, "error" -> error page
    client_safe: ClassVar[bool] = False

    @property
    def public_type(self) -> str:
        return self.type if self.client_safe else "Configuration"


class CredentialsSignin(AuthError):
    """``authorize`` refused the credentials.

    Subclass it (or pass ``code=``) to give the sign-in page a more precise
    ``code`` query parameter, as Auth.js allows; ``retry_after`` (seconds) adds
    a ``Retry-After`` header to the redirect, for throttled attempts.
    """

    type = "CredentialsSignin"
    kind = "signIn"
    client_safe = True
    code: str = "credentials"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message or self.type)
        if code is not None:
            self.code = code
        self.retry_after = retry_after


class RateLimited(AuthError):
    """Too many attempts: an application's ``signin`` callback raises it (for
    example to throttle magic-link requests). The browser is sent to the
    sign-in page with ``?error=RateLimited`` and a ``Retry-After`` header."""

    type = "RateLimited"
    kind = "signIn"
    client_safe = True

    def __init__(self, message: str = "", *, retry_after: int | None = None) -> None:
        super().__init__(message or self.type)
        self.retry_after = retry_after


class OAuthAccountNotLinked(AuthError):
    type = "OAuthAccountNotLinked"
    kind = "signIn"
    client_safe = True


class OAuthCallbackError(AuthError):
    type = "OAuthCallbackError"
    kind = "signIn"
    client_safe = True


class EmailSignInError(AuthError):
    type = "EmailSignInError"
    kind = "signIn"


class MissingCSRF(AuthError):
    type = "MissingCSRF"
    kind = "signIn"
    client_safe = True


class AccessDenied(AuthError):
    type = "AccessDenied"
    client_safe = True


class Verification(AuthError):
    type = "Verification"
    client_safe = True


class InvalidCheck(AuthError):
    """A PKCE, state or nonce check failed (missing, expired or forged cookie)."""

    type = "InvalidCheck"


class InvalidProvider(AuthError):
    type = "InvalidProvider"


class UnknownAction(AuthError):
    type = "UnknownAction"


class InvalidCallbackUrl(AuthError):
    type = "InvalidCallbackUrl"


class CallbackRouteError(AuthError):
    """Anything unexpected while finishing a sign-in (adapter, provider, ...)."""

    type = "CallbackRouteError"


class SignInError(AuthError):
    """Anything unexpected while starting a sign-in."""

    type = "SignInError"


class JWTError(Exception):
    """A session or check cookie could not be decoded: treated as absent."""

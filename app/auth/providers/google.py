"""The Google preset: OpenID Connect with issuer ``https://accounts.google.com``.

Configure it with settings alone (``auth.providers = google``,
``AUTH_GOOGLE_ID``/``AUTH_GOOGLE_SECRET``) or in code with
``Google(client_id=..., client_secret=...)``. Everything else is generic
:class:`~app.auth.providers.oidc.OIDC`: discovery, PKCE + state + nonce, the
verified ID token as the profile (``sub``, ``name``, ``email``, ``picture``).
Register ``<AUTH_URL>/api/auth/callback/google`` as the redirect URI.
"""

from __future__ import annotations

from typing import Any

from app.auth.providers.oidc import OIDC

GOOGLE_ISSUER = "https://accounts.google.com"


class Google(OIDC):
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str | None = None,
        id: str = "google",
        name: str = "Google",
        issuer: str = GOOGLE_ISSUER,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            id=id,
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            name=name,
            **kwargs,
        )

"""OpenID Connect providers configured by discovery (Auth.js ``type: "oidc"``).

An :class:`OIDC` provider needs only its issuer and client credentials. On
first use it fetches ``<issuer>/.well-known/openid-configuration`` (with
``auth.http_timeout``), checks that the document names the same issuer and
https endpoints, and keeps it on the provider object (one fetch per
process, under a lock; a failed fetch is retried on the next sign-in). The
signing keys (``jwks_uri``) are cached the same way and fetched again when a
token names a key the cache does not hold (key rotation).

The profile is the ID token's claims, as in Auth.js. The ID token is
verified with joserfc against the provider's JWKS (signature; only the
asymmetric algorithms the provider advertises, never ``none`` or HMAC) and
with authlib's :class:`~authlib.oidc.core.CodeIDToken` rules: ``iss`` equals
the discovered issuer, ``aud`` contains the client id (``azp`` when there
are several), ``exp``/``iat`` with :data:`ID_TOKEN_LEEWAY` seconds of clock
skew, ``nonce`` equals the nonce cookie's, ``at_hash`` matches the access
token when present.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError, MissingKeyError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from app.auth.providers import checks
from app.auth.providers.oauth import (
    OAuth2,
    ProviderError,
    require_secure_url,
    shorten,
)

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
ID_TOKEN_LEEWAY = 30  # seconds of clock skew, as oauth4webapi's default
DEFAULT_ID_TOKEN_ALGS = ("RS256",)
# ID tokens are verified with the provider's public keys only.
REFUSED_ALGS = frozenset({"none", "HS256", "HS384", "HS512"})


class OIDC(OAuth2):
    """A generic OpenID Connect provider: ``OIDC(id=, issuer=, client_id=, ...)``."""

    type: ClassVar[str] = "oidc"
    default_checks: ClassVar[tuple[str, ...]] = (
        checks.PKCE,
        checks.STATE,
        checks.NONCE,
    )
    default_scope: ClassVar[str | None] = "openid profile email"

    def __init__(
        self,
        *,
        id: str,
        issuer: str,
        client_id: str,
        client_secret: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not issuer:
            raise ValueError(f"provider {id}: issuer is required")
        try:
            require_secure_url(issuer, "issuer")
        except ProviderError as exc:
            raise ValueError(f"provider {id}: {exc}") from None
        self.issuer = issuer.rstrip("/")
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._jwks: KeySet | None = None
        super().__init__(
            id=id, client_id=client_id, client_secret=client_secret, name=name, **kwargs
        )

    def _check_endpoints(self) -> None:
        # Endpoints come from discovery; explicit ones (tests, odd providers)
        # override the discovered ones and must be https.
        for key, url in self._endpoints.items():
            try:
                require_secure_url(url, key)
            except ProviderError as exc:
                raise ValueError(f"provider {self.id}: {exc}") from None

    @property
    def discovery_url(self) -> str:
        return self.issuer + DISCOVERY_PATH

    # discovery -------------------------------------------------------------------
    def server_metadata(self, timeout: float) -> Mapping[str, Any]:
        metadata = self._metadata
        if metadata is not None:
            return metadata
        with self._lock:
            if self._metadata is None:
                self._metadata = self._discover(timeout)
                log.info("discovered provider=%s issuer=%s", self.id, self.issuer)
            return self._metadata

    def _discover(self, timeout: float) -> dict[str, Any]:
        with self.client(timeout) as session:
            document = self.get_json(
                session,
                self.discovery_url,
                "discovery document",
                timeout,
                with_token=False,
            )
        if not isinstance(document, dict):
            raise ProviderError("discovery document is not a JSON object")
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer:
            # OpenID Connect Discovery §4.3: the document must name this issuer.
            raise ProviderError(
                f"discovery document names issuer {shorten(issuer)}, "
                f"expected {self.issuer!r}"
            )
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            require_secure_url(document.get(key), f"discovered {key}")
        metadata = {**document, **self._endpoints}
        methods = metadata.get("code_challenge_methods_supported")
        if (
            checks.PKCE in self.checks
            and isinstance(methods, list)
            and "S256" not in methods
        ):
            log.warning(
                "provider=%s does not support PKCE S256: relying on state and nonce",
                self.id,
            )
        return metadata

    def effective_checks(self, metadata: Mapping[str, Any]) -> tuple[str, ...]:
        # Auth.js drops PKCE when the server says it cannot do S256. A server
        # that says nothing gets PKCE anyway: unknown parameters are ignored.
        methods = metadata.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            return tuple(c for c in self.checks if c != checks.PKCE)
        return self.checks

    def _key_set(
        self, metadata: Mapping[str, Any], timeout: float, *, refresh: bool = False
    ) -> KeySet:
        """The provider's signing keys, fetched on first use or when ``refresh``.

        ID tokens come from the token endpoint, not from the browser, so an
        unknown key id means the provider rotated its keys, not an attack to
        throttle: one refetch per such token is what it takes.
        """
        with self._lock:
            if self._jwks is None or refresh:
                with self.client(timeout) as session:
                    document = self.get_json(
                        session,
                        metadata["jwks_uri"],
                        "jwks_uri",
                        timeout,
                        with_token=False,
                    )
                try:
                    self._jwks = KeySet.import_key_set(document)
                except (JoseError, ValueError, TypeError, KeyError) as exc:
                    raise ProviderError(
                        f"jwks_uri holds no usable keys ({exc.__class__.__name__})"
                    ) from None
                log.info("fetched signing keys provider=%s", self.id)
            return self._jwks

    # the ID token is the profile -------------------------------------------------
    def fetch_profile(
        self, session, metadata, token, *, nonce, timeout
    ) -> dict[str, Any]:
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise ProviderError("token response has no id_token")
        return self.verify_id_token(
            id_token,
            metadata,
            nonce=nonce,
            access_token=token.get("access_token"),
            timeout=timeout,
        )

    def verify_id_token(
        self,
        id_token: str,
        metadata: Mapping[str, Any],
        *,
        nonce: str | None,
        access_token: str | None,
        timeout: float,
    ) -> dict[str, Any]:
        """The verified claims of ``id_token``; :class:`ProviderError` if invalid."""
        algorithms = _algorithms(metadata.get("id_token_signing_alg_values_supported"))
        registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
        try:
            try:
                decoded = jwt.decode(
                    id_token, self._key_set(metadata, timeout), registry=registry
                )
            except (InvalidKeyIdError, MissingKeyError):
                decoded = jwt.decode(
                    id_token,
                    self._key_set(metadata, timeout, refresh=True),
                    registry=registry,
                )
        except (JoseError, ValueError, TypeError) as exc:
            raise ProviderError(
                f"ID token rejected: {exc.__class__.__name__} {shorten(exc)}"
            ) from None
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": self.client_id},
            },
            {"nonce": nonce, "client_id": self.client_id, "access_token": access_token},
        )
        try:
            claims.validate(leeway=ID_TOKEN_LEEWAY)
        except (JoseError, ValueError, TypeError) as exc:
            raise ProviderError(
                f"ID token rejected: {exc.__class__.__name__} {shorten(exc)}"
            ) from None
        return dict(claims)


def _algorithms(advertised: object) -> list[str]:
    values: Iterable[object] = advertised if isinstance(advertised, list) else ()
    algorithms = [a for a in values if isinstance(a, str) and a not in REFUSED_ALGS]
    return algorithms or list(DEFAULT_ID_TOKEN_ALGS)

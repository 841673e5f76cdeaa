"""ID token verification of the OIDC provider, keys served over HTTP on 127.0.0.1.

A tiny OpenID provider (discovery document and JWKS) runs in a thread; the
tests sign ID tokens with joserfc and hand them to
:meth:`OIDC.verify_id_token`, the step the callback runs after the token
exchange. Signature, algorithm, issuer, audience, expiry, nonce and
``at_hash`` must all hold; an unknown key id makes the provider fetch the
JWKS again once (key rotation).
"""

# ruff: noqa: S105, S106 - test credentials

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from joserfc.util import urlsafe_b64encode
from werkzeug.wrappers import Request, Response

from app.auth import OIDC
from app.auth.providers.oauth import ProviderError
from tests.integration.oauth_support import serve_wsgi

CLIENT_ID = "rp-client"
NONCE = "n-0S6_WzA2Mj"


class KeyServer:
    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "k1"})]
        self.jwks_requests = 0
        self.url = ""

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == "/.well-known/openid-configuration":
            body = {
                "issuer": self.url,
                "authorization_endpoint": self.url + "/authorize",
                "token_endpoint": self.url + "/token",
                "jwks_uri": self.url + "/jwks",
                "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
            }
        elif request.path == "/jwks":
            self.jwks_requests += 1
            body = {"keys": [k.as_dict(private=False) for k in self.keys]}
        else:
            return Response(status=404)(environ, start_response)
        return Response(json.dumps(body), content_type="application/json")(
            environ, start_response
        )


@pytest.fixture
def keys() -> Iterator[KeyServer]:
    server = KeyServer()
    with serve_wsgi(server) as url:
        server.url = url
        yield server


def _provider(keys: KeyServer) -> OIDC:
    return OIDC(
        id="corp", issuer=keys.url, client_id=CLIENT_ID, client_secret="rp-secret"
    )


def _claims(keys: KeyServer, **changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": keys.url,
        "sub": "248289761001",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "email": "jane@example.com",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict, key: RSAKey) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _verify(
    provider: OIDC,
    token: str,
    *,
    nonce: str | None = NONCE,
    access_token: str | None = None,
) -> dict:
    metadata = provider.server_metadata(2.0)
    return provider.verify_id_token(
        token, metadata, nonce=nonce, access_token=access_token, timeout=2.0
    )


def test_a_valid_id_token_gives_its_claims(keys):
    provider = _provider(keys)

    claims = _verify(provider, _sign(_claims(keys), keys.keys[0]))

    assert claims["sub"] == "248289761001"
    assert claims["email"] == "jane@example.com"


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"aud": "someone-else"}, "aud"),
        ({"aud": None}, "aud"),
        ({"iss": "https://issuer.example.org"}, "iss"),
        ({"exp": int(time.time()) - 120}, "ExpiredTokenError"),
        ({"nonce": "another-nonce"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"sub": None}, "sub"),
    ],
)
def test_wrong_claims_are_rejected(keys, changes, reason):
    provider = _provider(keys)

    with pytest.raises(ProviderError, match="ID token rejected") as info:
        _verify(provider, _sign(_claims(keys, **changes), keys.keys[0]))

    assert reason in str(info.value)


def test_signature_by_an_unknown_key_is_rejected_after_one_refetch(keys):
    provider = _provider(keys)
    _verify(provider, _sign(_claims(keys), keys.keys[0]))
    intruder = RSAKey.generate_key(2048, parameters={"kid": "k1"})

    with pytest.raises(ProviderError, match="BadSignatureError"):
        _verify(provider, _sign(_claims(keys), intruder))
    with pytest.raises(ProviderError, match="InvalidKeyIdError"):
        _verify(
            provider,
            _sign(_claims(keys), RSAKey.generate_key(2048, parameters={"kid": "zz"})),
        )

    assert keys.jwks_requests == 2  # the cache, plus one refetch for the unknown kid


def test_rotated_key_is_picked_up(keys):
    provider = _provider(keys)
    _verify(provider, _sign(_claims(keys), keys.keys[0]))
    keys.keys.append(RSAKey.generate_key(2048, parameters={"kid": "k2"}))

    claims = _verify(provider, _sign(_claims(keys), keys.keys[1]))

    assert claims["sub"] == "248289761001"
    assert keys.jwks_requests == 2


def test_hmac_and_unsigned_tokens_are_refused_even_if_advertised(keys):
    provider = _provider(keys)
    hmac_key = OctKey.import_key("rp-secret-rp-secret-rp-secret-32")
    hs256 = jwt.encode({"alg": "HS256"}, _claims(keys), hmac_key)
    header = json.dumps({"alg": "none"}).encode()
    payload = json.dumps(_claims(keys)).encode()
    unsigned = (
        f"{urlsafe_b64encode(header).decode()}.{urlsafe_b64encode(payload).decode()}."
    )

    for token in (hs256, unsigned, "not.a.jwt", ""):
        with pytest.raises(ProviderError, match="ID token rejected"):
            _verify(provider, token)


def test_at_hash_must_match_the_access_token(keys):
    provider = _provider(keys)
    at_hash = create_half_hash("the-access-token", "RS256").decode()
    token = _sign(_claims(keys, at_hash=at_hash), keys.keys[0])

    assert (
        _verify(provider, token, access_token="the-access-token")["at_hash"] == at_hash
    )
    with pytest.raises(ProviderError, match="at_hash"):
        _verify(provider, token, access_token="a-swapped-access-token")


def test_discovery_is_fetched_once_per_provider(keys):
    provider = _provider(keys)

    first = provider.server_metadata(2.0)
    keys.url = "http://127.0.0.1:9"  # a second fetch would now see another issuer
    second = provider.server_metadata(2.0)

    assert first is second
    assert first["jwks_uri"].endswith("/jwks")

"""The benchmark's yardstick reads and writes real Auth.js session tokens, so
the comparison is with the same work, not with less."""

from __future__ import annotations

import json
import time
from pathlib import Path

from joserfc import jwe
from joserfc.jwk import OctKey
from webtest import TestApp

from bench.plain import COOKIE, MAX_AGE, make_app

VECTOR = next(
    v
    for v in json.loads(
        (Path(__file__).parents[1] / "data" / "authjs-vectors.json").read_text()
    )["vectors"]
    if v["salt"] == COOKIE and "decrypt_with_secrets" not in v
)


def test_opens_an_authjs_token_and_rolls_it():
    app = TestApp(make_app(VECTOR["secret"]))
    app.set_cookie(COOKIE, VECTOR["token"])
    before = int(time.time())
    response = app.get("/api/auth/session")

    payload = VECTOR["expected_payload"]
    assert response.json["user"] == {
        "name": payload["name"],
        "email": payload["email"],
        "image": payload["picture"],
    }
    assert response.headers["Cache-Control"] == "private, no-cache, no-store"
    (cookie,) = response.headers.getall("Set-Cookie")
    fresh = cookie.split(";", 1)[0].removeprefix(f"{COOKIE}=")
    assert "; Path=/; Expires=" in cookie and cookie.endswith(
        "; HttpOnly; SameSite=Lax"
    )
    key = OctKey.import_key(bytes.fromhex(VECTOR["derived_key_hex"]))
    registry = jwe.JWERegistry(algorithms=["dir", "A256CBC-HS512"])
    token = jwe.decrypt_compact(fresh, key, registry=registry)
    assert token.protected == VECTOR["protected_header"]  # same alg, enc and kid
    claims = json.loads(token.plaintext)
    assert claims["jti"] != payload["jti"]
    assert before <= claims["iat"] and claims["exp"] == claims["iat"] + MAX_AGE
    assert {k: claims[k] for k in ("name", "email", "picture", "sub")} == {
        k: payload[k] for k in ("name", "email", "picture", "sub")
    }


def test_no_session_without_a_valid_token():
    app = TestApp(make_app(VECTOR["secret"]))
    assert app.get("/api/auth/session").body == b"null"
    app.set_cookie(COOKIE, VECTOR["token"][:-4] + "AAAA")  # a forged tag
    response = app.get("/api/auth/session")
    assert response.body == b"null"
    assert response.headers["Set-Cookie"].startswith(f"{COOKIE}=; Max-Age=0;")
    other = TestApp(make_app("another-secret-0123456789abcdef0123"))
    other.set_cookie(COOKIE, VECTOR["token"])
    assert other.get("/api/auth/session").body == b"null"

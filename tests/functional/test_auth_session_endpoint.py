"""``GET`` and ``POST session`` with JWT sessions (spec §1.3, §1.4, §4)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from app.auth.jwt import JWTCodec
from tests.conftest import TEST_SECRET
from tests.functional.support import (
    CREDENTIALS,
    NO_CACHE,
    attributes,
    cookie_header,
    cookie_value,
    csrf_token,
    expires_of,
    parse_iso,
    set_cookies,
    sign_in,
)

SESSION = "authjs.session-token"
MAX_AGE = 3600
CLEARED = "authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
VECTORS = json.loads(
    (
        Path(__file__).resolve().parent.parent / "data" / "authjs-vectors.json"
    ).read_text()
)["vectors"]


#: Tokens minted here carry no registry session id (``sid``), as Auth.js's
#: own do: they read only in stateless mode (check interval 0).
STATELESS = {"auth__session__check_interval": "0"}


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS, **STATELESS, auth__session__max_age=str(MAX_AGE))


def mint(
    claims: dict,
    *,
    secret: str = TEST_SECRET,
    max_age: int = MAX_AGE,
    now: float | None = None,
    salt: str = SESSION,
) -> str:
    return JWTCodec([secret]).encode(claims, salt=salt, max_age=max_age, now=now)


def decode(token: str, secret: str = TEST_SECRET, salt: str = SESSION) -> dict:
    return JWTCodec([secret]).decode(token, salt=salt)


ALICE = {
    "name": "Alice Example",
    "email": "alice@example.com",
    "picture": "https://example.com/alice.png",
    "sub": "1",
}


# no session ---------------------------------------------------------------------------
@pytest.mark.no_database
def test_no_cookie_answers_200_null_with_no_cache_headers(app):
    response = app.get("/api/auth/session")

    assert response.status_int == 200
    assert response.body == b"null"
    assert response.headers["Content-Type"] == "application/json"
    for name, value in NO_CACHE.items():
        assert response.headers[name] == value


@pytest.mark.no_database
def test_no_cookie_sets_the_csrf_cookie_and_touches_no_session_cookie(app):
    response = app.get("/api/auth/session")

    cookies = set_cookies(response)
    assert "authjs.csrf-token" in cookies
    assert not any(name.startswith(SESSION) for name in cookies)


# a valid session ----------------------------------------------------------------------
def test_signed_in_session_answers_user_and_expires(app):
    sign_in(app)

    body = app.get("/api/auth/session").json

    assert list(body) == ["user", "expires"]
    assert body["user"] == {
        "name": "Alice Example",
        "email": "alice@example.com",
        "image": "https://example.com/alice.png",
    }


@pytest.mark.no_database
def test_expires_is_iso_with_milliseconds_and_now_plus_max_age(app):
    cookie = mint(ALICE, max_age=10 * 86400)  # the token's own exp is irrelevant
    before = dt.datetime.now(dt.UTC)

    response = app.get("/api/auth/session", headers={"Cookie": f"{SESSION}={cookie}"})

    after = dt.datetime.now(dt.UTC)
    expires = parse_iso(response.json["expires"])
    window = dt.timedelta(seconds=MAX_AGE)
    assert before + window - dt.timedelta(milliseconds=1) <= expires <= after + window


@pytest.mark.no_database
def test_each_read_reissues_the_cookie_with_rolled_expires_and_a_fresh_token(app):
    cookie = mint(ALICE, now=time.time() - 600)

    response = app.get("/api/auth/session", headers={"Cookie": f"{SESSION}={cookie}"})

    header = set_cookies(response)[SESSION]
    assert [a.split("=")[0] for a in attributes(header)] == [
        "Path",
        "Expires",
        "HttpOnly",
        "SameSite",
    ]
    assert "SameSite=Lax" in attributes(header) and "Path=/" in attributes(header)
    expires = parse_iso(response.json["expires"])
    assert expires_of(header) == expires.replace(microsecond=0)
    new = cookie_value(header)
    assert new != cookie
    old_claims, new_claims = decode(cookie), decode(new)
    assert {k: new_claims[k] for k in ALICE} == ALICE
    assert new_claims["jti"] != old_claims["jti"]
    assert new_claims["iat"] > old_claims["iat"]
    assert new_claims["exp"] - new_claims["iat"] == MAX_AGE


def test_two_reads_give_two_different_tokens(app):
    sign_in(app)

    first = set_cookies(app.get("/api/auth/session"))[SESSION]
    second = set_cookies(app.get("/api/auth/session"))[SESSION]

    assert cookie_value(first) != cookie_value(second)
    assert decode(cookie_value(first))["jti"] != decode(cookie_value(second))["jti"]


@pytest.mark.no_database
def test_missing_claims_are_omitted_not_null(app):
    cookie = mint({"sub": "42", "email": "only@example.com"})

    body = app.get("/api/auth/session", headers={"Cookie": f"{SESSION}={cookie}"}).json

    assert body["user"] == {"email": "only@example.com"}


@pytest.mark.no_database
def test_session_read_also_sets_missing_init_cookies(app):
    cookie = mint(ALICE)

    response = app.get("/api/auth/session", headers={"Cookie": f"{SESSION}={cookie}"})

    assert {"authjs.csrf-token", "authjs.callback-url", SESSION} <= set(
        set_cookies(response)
    )


# unusable cookies ---------------------------------------------------------------------
@pytest.mark.no_database
def test_expired_cookie_answers_null_and_clears_it(app):
    cookie = mint(ALICE, max_age=60, now=time.time() - 3600)

    response = app.get("/api/auth/session", headers={"Cookie": f"{SESSION}={cookie}"})

    assert response.body == b"null"
    assert set_cookies(response)[SESSION] == CLEARED


@pytest.mark.no_database
def test_tampered_cookie_answers_null_and_clears_it(app):
    cookie = mint(ALICE)
    head, ek, iv, ciphertext, tag = cookie.split(".")
    tampered = ".".join(
        [head, ek, iv, ("A" if ciphertext[0] != "A" else "B") + ciphertext[1:], tag]
    )

    response = app.get("/api/auth/session", headers={"Cookie": f"{SESSION}={tampered}"})

    assert response.body == b"null"
    assert set_cookies(response)[SESSION] == CLEARED


@pytest.mark.no_database
def test_cookie_of_another_secret_answers_null_and_clears_it(app):
    cookie = mint(ALICE, secret="some-other-secret-" + "z" * 30)

    response = app.get("/api/auth/session", headers={"Cookie": f"{SESSION}={cookie}"})

    assert response.body == b"null"
    assert set_cookies(response)[SESSION] == CLEARED


@pytest.mark.no_database
def test_cookie_encrypted_for_the_secure_name_is_refused_on_the_plain_name(app):
    cookie = mint(ALICE, salt="__Secure-authjs.session-token")

    response = app.get("/api/auth/session", headers={"Cookie": f"{SESSION}={cookie}"})

    assert response.body == b"null"


# Auth.js-minted cookies ---------------------------------------------------------------
@pytest.mark.no_database
def test_cookie_minted_by_authjs_reads_as_its_session(make_app):
    vector = VECTORS[0]
    app = make_app(**CREDENTIALS, **STATELESS, auth__secret=vector["secret"])

    response = app.get(
        "/api/auth/session", headers={"Cookie": f"{SESSION}={vector['token']}"}
    )

    assert response.json["user"] == {
        "name": "Alice Example",
        "email": "alice@example.com",
        "image": "https://example.com/a.png",
    }
    renewed = decode(cookie_value(set_cookies(response)[SESSION]), vector["secret"])
    assert renewed["sub"] == "user-1"


# POST session (update) ----------------------------------------------------------------
def test_update_without_csrf_token_is_400_null(app):
    sign_in(app)

    response = app.post_json(
        "/api/auth/session", {"data": {"name": "X"}}, expect_errors=True
    )

    assert response.status_int == 400
    assert response.body == b"null"
    assert response.headers["Content-Type"] == "application/json"
    assert SESSION not in set_cookies(response)


def test_update_with_a_wrong_csrf_token_is_400_null(app):
    sign_in(app)

    response = app.post_json(
        "/api/auth/session", {"csrfToken": "0" * 64}, expect_errors=True
    )

    assert response.status_int == 400
    assert response.body == b"null"


def test_update_data_reaches_the_jwt_callback_with_trigger_update(make_app):
    app = make_app(
        **CREDENTIALS, pyramid__includes="tests.functional.support.include_jwt_capture"
    )
    sign_in(app)
    token = csrf_token(app)

    response = app.post_json(
        "/api/auth/session", {"csrfToken": token, "data": {"name": "Alice Renamed"}}
    )

    updates = [
        c for c in app.app.registry["test.jwt_calls"] if c.get("trigger") == "update"
    ]
    assert [c["session"] for c in updates] == [{"name": "Alice Renamed"}]
    assert response.json["user"]["name"] == "Alice Renamed"
    assert app.get("/api/auth/session").json["user"]["name"] == "Alice Renamed"


def test_update_runs_the_jwt_callback_once(make_app):
    app = make_app(
        **CREDENTIALS, pyramid__includes="tests.functional.support.include_jwt_capture"
    )
    sign_in(app)
    token = csrf_token(app)
    calls = app.app.registry["test.jwt_calls"]
    before = len(calls)

    app.post_json("/api/auth/session", {"csrfToken": token, "data": {"x": 1}})

    assert [c.get("trigger") for c in calls[before:]] == ["update"]


def test_update_answers_like_get_session_without_no_cache_headers(app):
    sign_in(app)
    token = csrf_token(app)

    response = app.post_json("/api/auth/session", {"csrfToken": token})

    assert response.status_int == 200
    assert list(response.json) == ["user", "expires"]
    assert SESSION in set_cookies(response)
    assert "Cache-Control" not in response.headers


def test_update_accepts_a_form_encoded_body(app):
    sign_in(app)
    token = csrf_token(app)

    response = app.post("/api/auth/session", {"csrfToken": token})

    assert response.json["user"]["name"] == "Alice Example"


@pytest.mark.no_database
def test_update_without_session_answers_null(app):
    token = csrf_token(app)

    response = app.post_json("/api/auth/session", {"csrfToken": token})

    assert response.status_int == 200
    assert response.body == b"null"


@pytest.mark.no_database
def test_update_with_an_unusable_session_cookie_clears_it(app):
    token = csrf_token(app)
    jar = {k: v.value for k, v in ((c.name, c) for c in app.cookiejar)}
    jar[SESSION] = "garbage"

    response = app.post_json(
        "/api/auth/session",
        {"csrfToken": token},
        headers={"Cookie": cookie_header(jar)},
    )

    assert response.body == b"null"
    assert set_cookies(response)[SESSION] == CLEARED


@pytest.mark.parametrize(
    "early_reader",
    [
        {"tm__annotate_user": "true"},
        {"extra": "tests.functional.support.include_early_identity"},
    ],
    ids=["pyramid_tm-annotate-user", "tween-reads-identity"],
)
def test_update_survives_an_early_read_of_the_identity(make_app, early_reader):
    """Whatever reads the identity before the view (pyramid_tm's
    ``tm.annotate_user``, a tween) ran the jwt callbacks without a trigger;
    ``POST session`` still runs them with ``trigger="update"`` and keeps
    the update."""
    includes = ["tests.functional.support.include_jwt_capture"]
    settings = dict(early_reader)
    if "extra" in settings:
        includes.append(settings.pop("extra"))
    app = make_app(**CREDENTIALS, pyramid__includes=" ".join(includes), **settings)
    sign_in(app)
    token = csrf_token(app)
    calls = app.app.registry["test.jwt_calls"]
    before = len(calls)

    response = app.post_json(
        "/api/auth/session", {"csrfToken": token, "data": {"name": "Alice Renamed"}}
    )

    triggers = [c.get("trigger") for c in calls[before:]]
    assert triggers == [None, "update"]  # the early read, then the update
    assert calls[-1]["session"] == {"name": "Alice Renamed"}
    assert response.json["user"]["name"] == "Alice Renamed"
    assert app.get("/api/auth/session").json["user"]["name"] == "Alice Renamed"

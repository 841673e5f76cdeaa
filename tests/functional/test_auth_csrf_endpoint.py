"""``GET csrf`` (spec §1.1, §3) and the init cookies that ride along."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.conftest import TEST_SECRET
from tests.functional.support import (
    CREDENTIALS,
    NO_CACHE,
    cookie_header,
    cookie_value,
    set_cookies,
    sign_in,
)

pytestmark = pytest.mark.no_database


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


def test_csrf_answers_a_64_hex_token_as_json_with_no_cache_headers(app):
    response = app.get("/api/auth/csrf")

    assert response.status_int == 200
    assert response.headers["Content-Type"] == "application/json"
    assert list(response.json) == ["csrfToken"]
    assert re.fullmatch(r"[0-9a-f]{64}", response.json["csrfToken"])
    for name, value in NO_CACHE.items():
        assert response.headers[name] == value


def test_first_request_gets_a_csrf_cookie_token_bar_sha256_of_token_and_secret(app):
    response = app.get("/api/auth/csrf")
    token = response.json["csrfToken"]

    header = set_cookies(response)["authjs.csrf-token"]

    digest = hashlib.sha256((token + TEST_SECRET).encode()).hexdigest()
    assert header == (
        f"authjs.csrf-token={token}%7C{digest}; Path=/; HttpOnly; SameSite=Lax"
    )


def test_valid_csrf_cookie_is_reused_and_not_set_again(app):
    first = app.get("/api/auth/csrf")

    second = app.get("/api/auth/csrf")

    assert second.json == first.json
    assert "authjs.csrf-token" not in set_cookies(second)


def test_forged_csrf_cookie_is_replaced_by_a_new_token(app):
    forged = "a" * 64 + "%7C" + "0" * 64

    response = app.get(
        "/api/auth/csrf", headers={"Cookie": f"authjs.csrf-token={forged}"}
    )

    token = response.json["csrfToken"]
    assert token != "a" * 64
    assert cookie_value(set_cookies(response)["authjs.csrf-token"]).startswith(
        token + "|"
    )


def test_csrf_cookie_of_another_secret_is_replaced(app, make_app):
    other = make_app(**CREDENTIALS, auth__secret="another-secret-" + "x" * 40)
    foreign = set_cookies(other.get("/api/auth/csrf"))["authjs.csrf-token"]
    raw = foreign.split(";", 1)[0].split("=", 1)[1]

    response = app.get("/api/auth/csrf", headers={"Cookie": f"authjs.csrf-token={raw}"})

    assert "authjs.csrf-token" in set_cookies(response)
    assert response.json["csrfToken"] != cookie_value(foreign).split("|")[0]


def test_first_request_also_gets_the_callback_url_cookie_set_to_the_origin(app):
    response = app.get("/api/auth/csrf")

    assert set_cookies(response)["authjs.callback-url"] == (
        "authjs.callback-url=http%3A%2F%2Flocalhost; Path=/; HttpOnly; SameSite=Lax"
    )


def test_callback_url_cookie_is_not_set_again_when_unchanged(app):
    app.get("/api/auth/csrf")

    response = app.get("/api/auth/csrf")

    assert set_cookies(response) == {}


def test_callback_url_query_updates_the_callback_url_cookie(app):
    app.get("/api/auth/csrf")

    response = app.get("/api/auth/csrf", params={"callbackUrl": "/members"})

    assert cookie_value(set_cookies(response)["authjs.callback-url"]) == (
        "http://localhost/members"
    )


def test_token_from_csrf_verifies_a_post(app):
    token = app.get("/api/auth/csrf").json["csrfToken"]

    response = app.post("/api/auth/signout", {"csrfToken": token})

    assert response.location == "http://localhost"


def test_several_secrets_hash_with_the_comma_joined_list(make_app):
    new, old = "n" * 40, "o" * 40
    app = make_app(**CREDENTIALS, auth__secret=f"{new} {old}")

    response = app.get("/api/auth/csrf")

    token = response.json["csrfToken"]
    digest = cookie_value(set_cookies(response)["authjs.csrf-token"]).split("|")[1]
    assert digest == hashlib.sha256(f"{token}{new},{old}".encode()).hexdigest()


def test_cookie_sent_percent_encoded_or_not_is_read_the_same(app):
    token = "b" * 64
    digest = hashlib.sha256((token + TEST_SECRET).encode()).hexdigest()

    for raw in (f"{token}%7C{digest}", f"{token}|{digest}"):
        response = app.get(
            "/api/auth/csrf",
            headers={"Cookie": cookie_header({"authjs.csrf-token": raw})},
        )
        assert response.json["csrfToken"] == token
        assert "authjs.csrf-token" not in set_cookies(response)


@pytest.mark.database
def test_csrf_token_is_not_bound_to_the_session_and_survives_sign_in(app):
    before = app.get("/api/auth/csrf").json["csrfToken"]

    sign_in(app)

    assert app.get("/api/auth/csrf").json["csrfToken"] == before

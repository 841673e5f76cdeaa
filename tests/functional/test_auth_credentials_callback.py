"""``POST callback/<credentials provider>``: signing in (spec §1.7, §1.11, §1.12)."""

from __future__ import annotations

import logging

import pytest

from app.auth.jwt import JWTCodec
from tests.conftest import TEST_SECRET
from tests.functional.support import (
    CREDENTIALS,
    PASSWORD,
    PROVIDER,
    cookie_header,
    cookie_value,
    csrf_token,
    set_cookies,
    sign_in,
)

SESSION = "authjs.session-token"
CALLBACK = f"/api/auth/callback/{PROVIDER}"
SIGNIN = "http://localhost/api/auth/signin"


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


def calls(app) -> list[dict]:
    return app.app.registry.get("test.authorize_calls", [])


# success ------------------------------------------------------------------------------
def test_a_user_without_id_gets_a_random_uuid_subject(app):
    response = sign_in(app, username="anonymous")

    claims = JWTCodec([TEST_SECRET]).decode(
        cookie_value(set_cookies(response)[SESSION]), salt=SESSION
    )
    assert response.status_int == 302
    assert claims["name"] == "No Id"
    assert len(claims["sub"]) == 36 and claims["sub"].count("-") == 4


def test_right_credentials_set_the_session_cookie_and_redirect_to_the_origin(app):
    response = sign_in(app)

    assert response.status_int == 302
    assert response.location == "http://localhost"
    header = set_cookies(response)[SESSION]
    assert header.endswith("; HttpOnly; SameSite=Lax")
    assert "; Path=/; Expires=" in header


def test_session_token_holds_the_authjs_default_claims(app):
    response = sign_in(app)

    claims = JWTCodec([TEST_SECRET]).decode(
        cookie_value(set_cookies(response)[SESSION]), salt=SESSION
    )

    assert {k: claims[k] for k in ("name", "email", "picture", "sub")} == {
        "name": "Alice Example",
        "email": "alice@example.com",
        "picture": "https://example.com/alice.png",
        "sub": "1",
    }
    assert {"iat", "exp", "jti"} <= set(claims)


def test_user_without_image_gets_no_picture_claim(app):
    response = sign_in(app, "bob")

    claims = JWTCodec([TEST_SECRET]).decode(
        cookie_value(set_cookies(response)[SESSION]), salt=SESSION
    )

    assert "picture" not in claims


def test_signed_in_browser_reads_its_session(app):
    sign_in(app)

    assert app.get("/api/auth/session").json["user"]["email"] == "alice@example.com"


def test_body_callback_url_is_where_the_browser_goes(app):
    response = sign_in(app, callbackUrl="/members")

    assert response.location == "http://localhost/members"
    assert cookie_value(set_cookies(response)["authjs.callback-url"]) == (
        "http://localhost/members"
    )


def test_query_callback_url_applies_when_the_body_has_none(app):
    token = csrf_token(app)

    response = app.post(
        f"{CALLBACK}?callbackUrl=%2Fq",
        {"csrfToken": token, "username": "alice", "password": PASSWORD},
    )

    assert response.location == "http://localhost/q"


def test_body_callback_url_wins_over_query_and_cookie(app):
    app.get("/api/auth/csrf", params={"callbackUrl": "/from-cookie"})
    token = csrf_token(app)

    response = app.post(
        f"{CALLBACK}?callbackUrl=%2Ffrom-query",
        {
            "csrfToken": token,
            "username": "alice",
            "password": PASSWORD,
            "callbackUrl": "/from-body",
        },
    )

    assert response.location == "http://localhost/from-body"


def test_callback_url_cookie_applies_when_body_and_query_have_none(app):
    app.get("/api/auth/signin", params={"callbackUrl": "/from-cookie"})

    response = sign_in(app)

    assert response.location == "http://localhost/from-cookie"


def test_foreign_callback_url_becomes_the_origin(app):
    response = sign_in(app, callbackUrl="https://evil.example/steal")

    assert response.location == "http://localhost"
    # The cookie already holds the origin (set by GET csrf), so it is not re-set.
    assert "authjs.callback-url" not in set_cookies(response)
    assert {c.name: c.value for c in app.cookiejar}["authjs.callback-url"] == (
        "http%3A%2F%2Flocalhost"
    )


def test_protocol_relative_callback_url_stays_on_the_origin(app):
    response = sign_in(app, callbackUrl="//evil.example/x")

    assert response.location == "http://localhost//evil.example/x"


def test_json_body_signs_in_too(app):
    token = csrf_token(app)

    response = app.post_json(
        CALLBACK, {"csrfToken": token, "username": "alice", "password": PASSWORD}
    )

    assert response.status_int == 302
    assert SESSION in set_cookies(response)


def test_authorize_receives_the_whole_body(app):
    token = csrf_token(app)

    app.post(
        CALLBACK,
        {
            "csrfToken": token,
            "username": "alice",
            "password": PASSWORD,
            "callbackUrl": "/x",
            "remember": "yes",
        },
    )

    assert calls(app) == [
        {
            "csrfToken": token,
            "username": "alice",
            "password": PASSWORD,
            "callbackUrl": "/x",
            "remember": "yes",
        }
    ]


def test_return_redirect_header_answers_the_url_and_keeps_the_session_cookie(app):
    token = csrf_token(app)

    response = app.post(
        CALLBACK,
        {
            "csrfToken": token,
            "username": "alice",
            "password": PASSWORD,
            "callbackUrl": "/members",
        },
        headers={"X-Auth-Return-Redirect": "1"},
    )

    assert response.status_int == 200
    assert response.json == {"url": "http://localhost/members"}
    assert SESSION in set_cookies(response)


# failure ------------------------------------------------------------------------------
@pytest.mark.no_database
def test_wrong_password_redirects_with_credentials_signin_and_code(app, caplog):
    with caplog.at_level(logging.INFO):
        response = sign_in(app, password="wrong")

    assert response.status_int == 302
    assert response.location == f"{SIGNIN}?error=CredentialsSignin&code=credentials"
    assert SESSION not in set_cookies(response)
    assert "CredentialsSignin" in caplog.text
    assert "wrong" not in caplog.text  # never log a password


@pytest.mark.no_database
def test_unknown_user_answers_like_a_wrong_password(app):
    response = sign_in(app, "nobody")

    assert response.location == f"{SIGNIN}?error=CredentialsSignin&code=credentials"


@pytest.mark.no_database
def test_custom_credentials_signin_subclass_sets_its_code(app):
    response = sign_in(app, "custom")

    assert response.location == f"{SIGNIN}?error=CredentialsSignin&code=custom_code"


@pytest.mark.no_database
def test_credentials_signin_with_retry_after_adds_the_header(app):
    response = sign_in(app, "throttled")

    assert response.location == f"{SIGNIN}?error=CredentialsSignin&code=rate_limited"
    assert response.headers["Retry-After"] == "30"


def test_failed_sign_in_keeps_an_existing_session(app):
    sign_in(app)

    sign_in(app, password="wrong")

    assert app.get("/api/auth/session").json["user"]["name"] == "Alice Example"


@pytest.mark.no_database
def test_authorize_that_crashes_is_a_configuration_error_and_is_logged(app, caplog):
    with caplog.at_level(logging.INFO):
        response = sign_in(app, "broken")

    assert response.location == "http://localhost/api/auth/error?error=Configuration"
    assert "authorize crashed" in caplog.text


@pytest.mark.no_database
def test_missing_csrf_token_redirects_with_missing_csrf_before_authorize(app):
    response = app.post(CALLBACK, {"username": "alice", "password": PASSWORD})

    assert response.location == f"{SIGNIN}?error=MissingCSRF"
    assert calls(app) == []
    assert SESSION not in set_cookies(response)


@pytest.mark.no_database
def test_csrf_token_of_another_browser_is_refused(app, make_app):
    other = make_app(**CREDENTIALS)
    token_of_other = csrf_token(other)
    csrf_token(app)

    response = app.post(
        CALLBACK,
        {"csrfToken": token_of_other, "username": "alice", "password": PASSWORD},
    )

    assert response.location == f"{SIGNIN}?error=MissingCSRF"


@pytest.mark.no_database
def test_get_on_the_credentials_callback_is_a_configuration_error(app):
    response = app.get(CALLBACK, params={"username": "alice", "password": PASSWORD})

    assert response.status_int == 302
    assert response.location == "http://localhost/api/auth/error?error=Configuration"
    assert calls(app) == []


@pytest.mark.no_database
def test_callback_of_an_unknown_provider_is_a_configuration_error(app):
    token = csrf_token(app)

    response = app.post("/api/auth/callback/nope", {"csrfToken": token})

    assert response.location == "http://localhost/api/auth/error?error=Configuration"


@pytest.mark.no_database
def test_callback_without_provider_is_a_configuration_error(app):
    response = app.get("/api/auth/callback")

    assert response.location == "http://localhost/api/auth/error?error=Configuration"


def test_sign_in_replaces_the_previous_session(app):
    sign_in(app)
    jar = {c.name: c.value for c in app.cookiejar}

    response = app.post(
        CALLBACK,
        {"csrfToken": csrf_token(app), "username": "bob", "password": PASSWORD},
        headers={"Cookie": cookie_header(jar)},
    )
    app.set_cookie(
        SESSION, set_cookies(response)[SESSION].split(";")[0].split("=", 1)[1]
    )

    assert app.get("/api/auth/session").json["user"]["name"] == "Bob"

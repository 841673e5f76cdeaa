"""``POST signin/<provider>`` and ``X-Auth-Return-Redirect`` (spec §1.5, §1.6)."""

from __future__ import annotations

import pytest

from tests.functional.support import (
    BASE,
    CREDENTIALS,
    PROVIDER,
    cookie_value,
    csrf_token,
    set_cookies,
)

SIGNIN = "http://localhost/api/auth/signin"


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


@pytest.mark.no_database
def test_post_signin_without_csrf_token_redirects_with_missing_csrf(app):
    response = app.post(f"/api/auth/signin/{PROVIDER}")

    assert response.status_int == 302
    assert response.location == f"{SIGNIN}?error=MissingCSRF"


@pytest.mark.no_database
def test_post_signin_with_a_wrong_csrf_token_redirects_with_missing_csrf(app):
    csrf_token(app)

    response = app.post(f"/api/auth/signin/{PROVIDER}", {"csrfToken": "f" * 64})

    assert response.location == f"{SIGNIN}?error=MissingCSRF"


@pytest.mark.no_database
def test_post_signin_with_a_token_but_no_cookie_redirects_with_missing_csrf(
    app, make_app
):
    token = csrf_token(app)

    response = make_app(**CREDENTIALS).post(
        f"/api/auth/signin/{PROVIDER}", {"csrfToken": token}
    )

    assert response.location == f"{SIGNIN}?error=MissingCSRF"


@pytest.mark.no_database
def test_post_signin_for_a_credentials_provider_shows_the_signin_page(app):
    token = csrf_token(app)

    response = app.post(f"/api/auth/signin/{PROVIDER}", {"csrfToken": token})

    assert response.status_int == 302
    assert response.location == SIGNIN


@pytest.mark.no_database
def test_post_signin_for_an_unknown_provider_is_a_configuration_error(app):
    # Auth.js 0.41.3, observed (spec §1.6).
    token = csrf_token(app)

    response = app.post("/api/auth/signin/nope", {"csrfToken": token})

    assert response.status_int == 302
    assert response.location == f"{BASE}/error?error=Configuration"


@pytest.mark.no_database
def test_post_signin_without_provider_shows_the_signin_page(app):
    token = csrf_token(app)

    response = app.post("/api/auth/signin", {"csrfToken": token})

    assert response.location == SIGNIN


@pytest.mark.no_database
def test_post_signin_accepts_a_json_body(app):
    token = csrf_token(app)

    response = app.post_json(f"/api/auth/signin/{PROVIDER}", {"csrfToken": token})

    assert response.location == SIGNIN


@pytest.mark.no_database
def test_get_signin_with_a_provider_is_a_configuration_error(app):
    response = app.get(f"/api/auth/signin/{PROVIDER}")

    assert response.status_int == 302
    assert response.location == "http://localhost/api/auth/error?error=Configuration"


# X-Auth-Return-Redirect ---------------------------------------------------------------
@pytest.mark.no_database
def test_return_redirect_header_answers_200_json_url_and_keeps_location_and_cookies(
    app,
):
    token = csrf_token(app)

    response = app.post(
        f"/api/auth/signin/{PROVIDER}",
        {"csrfToken": token, "callbackUrl": "/members"},
        headers={"X-Auth-Return-Redirect": "1"},
    )

    assert response.status_int == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.body == b'{"url":"http://localhost/api/auth/signin"}'
    assert response.headers["Location"] == SIGNIN
    assert cookie_value(set_cookies(response)["authjs.callback-url"]) == (
        "http://localhost/members"
    )


@pytest.mark.no_database
def test_return_redirect_header_with_any_value_also_applies_to_errors(app):
    response = app.post(
        f"/api/auth/signin/{PROVIDER}", headers={"X-Auth-Return-Redirect": "true"}
    )

    assert response.status_int == 200
    assert response.json == {"url": f"{SIGNIN}?error=MissingCSRF"}


@pytest.mark.no_database
def test_without_the_header_the_answer_is_a_302(app):
    token = csrf_token(app)

    response = app.post(f"/api/auth/signin/{PROVIDER}", {"csrfToken": token})

    assert response.status_int == 302

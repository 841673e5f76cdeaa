"""``GET`` and ``POST signout`` (spec §1.8, §1.9)."""

from __future__ import annotations

import pytest

from app.auth import SignedOut
from tests.functional.support import (
    CREDENTIALS,
    NO_CACHE,
    cookie_header,
    cookie_value,
    csrf_token,
    events,
    is_deletion,
    set_cookie_headers,
    set_cookies,
    sign_in,
)

SESSION = "authjs.session-token"


@pytest.fixture
def app(make_app):
    return make_app(
        **CREDENTIALS, pyramid__includes="tests.functional.support.include_events"
    )


def jar(app) -> dict[str, str]:
    return {c.name: c.value for c in app.cookiejar}


# the page -----------------------------------------------------------------------------
@pytest.mark.no_database
def test_signout_page_asks_for_confirmation(app):
    page = app.get("/api/auth/signout")

    assert page.status_int == 200
    assert page.content_type == "text/html"
    assert "<title>Sign out</title>" in page.text
    assert "<h1>Sign out</h1>" in page.text
    assert "Are you sure you want to sign out?" in page.text
    assert ">Sign out</button>" in page.text
    for name, value in NO_CACHE.items():
        assert page.headers[name] == value


@pytest.mark.no_database
def test_signout_page_form_posts_back_with_the_csrf_token(app):
    page = app.get("/api/auth/signout")

    (form,) = page.forms.values()
    assert form.action == "http://localhost/api/auth/signout"
    assert form.method == "POST"
    token = cookie_value(set_cookies(page)["authjs.csrf-token"]).split("|")[0]
    assert form["csrfToken"].value == token


def test_submitting_the_signout_page_signs_out(app):
    sign_in(app)
    form = next(iter(app.get("/api/auth/signout").forms.values()))

    response = form.submit()

    assert response.status_int == 302
    assert app.get("/api/auth/session").body == b"null"


# POST ---------------------------------------------------------------------------------
def test_post_signout_clears_the_session_cookie_and_redirects_to_the_origin(app):
    sign_in(app)

    response = app.post("/api/auth/signout", {"csrfToken": csrf_token(app)})

    assert response.status_int == 302
    assert response.location == "http://localhost"
    assert set_cookies(response)[SESSION] == (
        "authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    )


def test_post_signout_clears_every_chunk(make_app):
    app = make_app(
        **CREDENTIALS, pyramid__includes="tests.functional.support.include_big_claim"
    )
    sign_in(app)
    chunks = sorted(n for n in jar(app) if n.startswith(SESSION))
    assert chunks == [f"{SESSION}.0", f"{SESSION}.1", f"{SESSION}.2"]

    response = app.post("/api/auth/signout", {"csrfToken": csrf_token(app)})

    deleted = sorted(
        h.split("=", 1)[0] for h in set_cookie_headers(response) if is_deletion(h)
    )
    assert deleted == chunks
    assert not any(n.startswith(SESSION) for n in jar(app))


def test_post_signout_goes_to_the_body_callback_url(app):
    sign_in(app)

    response = app.post(
        "/api/auth/signout", {"csrfToken": csrf_token(app), "callbackUrl": "/bye"}
    )

    assert response.location == "http://localhost/bye"


@pytest.mark.no_database
def test_post_signout_falls_back_to_the_callback_url_cookie(app):
    app.get("/api/auth/signout", params={"callbackUrl": "/after"})

    response = app.post("/api/auth/signout", {"csrfToken": csrf_token(app)})

    assert response.location == "http://localhost/after"


@pytest.mark.no_database
def test_post_signout_refuses_a_foreign_callback_url(app):
    response = app.post(
        "/api/auth/signout",
        {"csrfToken": csrf_token(app), "callbackUrl": "https://evil.example"},
    )

    assert response.location == "http://localhost"


@pytest.mark.no_database
def test_post_signout_without_session_still_redirects(app):
    response = app.post("/api/auth/signout", {"csrfToken": csrf_token(app)})

    assert response.status_int == 302
    assert response.location == "http://localhost"
    assert not any(n.startswith(SESSION) for n in set_cookies(response))


def test_post_signout_without_csrf_redirects_with_missing_csrf_and_keeps_the_session(
    app,
):
    sign_in(app)

    response = app.post("/api/auth/signout")

    assert response.location == "http://localhost/api/auth/signin?error=MissingCSRF"
    assert SESSION not in set_cookies(response)
    assert app.get("/api/auth/session").json["user"]["name"] == "Alice Example"
    assert events(app, SignedOut) == []


def test_post_signout_with_return_redirect_header_answers_the_url(app):
    sign_in(app)

    response = app.post(
        "/api/auth/signout",
        {"csrfToken": csrf_token(app)},
        headers={"X-Auth-Return-Redirect": "1"},
    )

    assert response.status_int == 200
    assert response.json == {"url": "http://localhost"}
    assert is_deletion(set_cookies(response)[SESSION])


def test_post_signout_fires_signed_out_with_the_token(app):
    sign_in(app)

    app.post("/api/auth/signout", {"csrfToken": csrf_token(app)})

    (event,) = events(app, SignedOut)
    assert event.token["sub"] == "1"
    assert event.session_token is None


@pytest.mark.no_database
def test_post_signout_with_an_unusable_cookie_clears_it(app):
    token = csrf_token(app)
    cookies = {**jar(app), SESSION: "not-a-token"}

    response = app.post(
        "/api/auth/signout",
        {"csrfToken": token},
        headers={"Cookie": cookie_header(cookies)},
    )

    assert response.status_int == 302
    assert is_deletion(set_cookies(response)[SESSION])
    (event,) = events(app, SignedOut)
    assert event.token is None

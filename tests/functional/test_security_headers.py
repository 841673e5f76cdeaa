"""Security headers on every kind of page (issue 9, item 9).

HTML pages may not be framed (``frame-ancestors 'none'`` and
``X-Frame-Options: DENY``); nothing is sniffed into another type; the
``Referer`` sent onwards carries at most the origin, and a page that chose
``no-referrer`` (a token link's page) keeps it.
"""

from __future__ import annotations

import pytest
from pyramid.response import Response

from app.security_headers import add_security_headers
from tests.functional.support import CREDENTIALS

pytestmark = pytest.mark.no_database

FRAME_ANCESTORS = "frame-ancestors 'none'"


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


def assert_html_headers(response) -> None:
    assert response.content_type == "text/html"
    assert response.headers["Content-Security-Policy"] == FRAME_ANCESTORS
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/api/auth/signin", 200),
        ("/api/auth/signout", 200),
        ("/api/auth/error?error=Verification", 403),
        ("/signup", 200),
        ("/account/reset", 200),
        ("/nowhere", 404),
        ("/%FF", 400),
    ],
)
def test_html_pages_cannot_be_framed(app, path, status):
    response = app.get(path, status=status)

    assert_html_headers(response)
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(
    "path", ["/api/auth/session", "/api/auth/csrf", "/api/auth/providers"]
)
def test_json_api_is_nosniff_without_frame_headers(app, path):
    response = app.get(path)

    assert response.content_type == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "X-Frame-Options" not in response.headers
    assert "Content-Security-Policy" not in response.headers


def test_static_files_are_nosniff(app):
    response = app.get("/static/site.css")

    assert response.content_type == "text/css"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_redirects_carry_the_headers_too(app):
    response = app.get("/members", status=302)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.database
def test_a_token_page_keeps_its_stricter_referrer_policy(app):
    response = app.get("/account/reset/confirm", params={"token": "x" * 43}, status=400)

    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert_html_headers(response)


def test_a_views_own_content_security_policy_gains_frame_ancestors():
    response = Response(content_type="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'self'"

    add_security_headers(response)

    assert response.headers["Content-Security-Policy"] == (
        f"default-src 'self'; {FRAME_ANCESTORS}"
    )


def test_a_views_own_frame_ancestors_is_kept():
    response = Response(content_type="text/html")
    response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"

    add_security_headers(response)

    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"

"""The path grammar under the base path and the methods it accepts (spec §0, §1.12)."""

from __future__ import annotations

import logging

import pytest

from tests.functional.support import CREDENTIALS, PROVIDER

pytestmark = pytest.mark.no_database

CONFIGURATION = "http://localhost/api/auth/error?error=Configuration"


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


def assert_bad_request(response) -> None:
    assert response.status_int == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.body == b'"Bad request."'


@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/foo",
        "/api/auth/webauthn",
        "/api/auth",
        "/api/auth/",
        "/api/auth/Session",
        "/api/auth/signin.html",
    ],
)
def test_unknown_action_is_400_bad_request(app, path, caplog):
    with caplog.at_level(logging.INFO):
        response = app.get(path, expect_errors=True)

    assert_bad_request(response)
    assert "bad auth request" in caplog.text


@pytest.mark.parametrize(
    "path",
    [
        f"/api/auth/signin/{PROVIDER}/extra",
        f"/api/auth/callback/{PROVIDER}/x",
        "/api/auth/signin/a/b/c",
    ],
)
def test_three_segments_are_400_bad_request(app, path):
    assert_bad_request(app.get(path, expect_errors=True))
    assert_bad_request(app.post(path, expect_errors=True))


@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/csrf/x",
        "/api/auth/session/x",
        "/api/auth/providers/x",
        "/api/auth/signout/x",
        "/api/auth/error/x",
        "/api/auth/verify-request/x",
    ],
)
def test_provider_segment_on_an_action_that_takes_none_is_400(app, path):
    assert_bad_request(app.get(path, expect_errors=True))
    assert_bad_request(app.post(path, expect_errors=True))


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/session",
        "/api/auth/csrf",
        f"/api/auth/callback/{PROVIDER}",
        "/api/auth/signin",
    ],
)
def test_methods_other_than_get_and_post_are_400(app, method, path):
    response = app.request(path, method=method, expect_errors=True)

    assert_bad_request(response)


@pytest.mark.parametrize("action", ["providers", "csrf", "error", "verify-request"])
def test_post_to_a_get_only_action_is_reported_as_configuration(app, action):
    response = app.post(f"/api/auth/{action}")

    assert response.status_int == 302
    assert response.location == CONFIGURATION


def test_trailing_slash_is_the_same_action(app):
    assert app.get("/api/auth/session/").body == b"null"


def test_paths_outside_the_base_path_are_the_sites_404(app):
    response = app.get("/api/other", expect_errors=True)

    assert response.status_int == 404
    assert response.content_type == "text/html"

"""``GET providers`` (spec §1.2)."""

from __future__ import annotations

import json

import pytest

from tests.functional.support import CREDENTIALS, PROVIDER

pytestmark = pytest.mark.no_database


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


def test_providers_lists_each_provider_with_exactly_its_five_fields(app):
    response = app.get("/api/auth/providers")

    assert response.status_int == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json[PROVIDER] == {
        "id": PROVIDER,
        "name": "Credentials",
        "type": "credentials",
        "signinUrl": f"http://localhost/api/auth/signin/{PROVIDER}",
        "callbackUrl": f"http://localhost/api/auth/callback/{PROVIDER}",
    }
    for pid, entry in response.json.items():
        assert list(entry) == ["id", "name", "type", "signinUrl", "callbackUrl"]
        assert entry["id"] == pid
        assert entry["signinUrl"] == f"http://localhost/api/auth/signin/{pid}"
        assert entry["callbackUrl"] == f"http://localhost/api/auth/callback/{pid}"


def test_providers_json_is_compact_as_json_stringify_writes_it(app):
    response = app.get("/api/auth/providers")

    assert response.body == json.dumps(response.json, separators=(",", ":")).encode()


def test_providers_sets_no_cookie_and_no_cache_headers(app):
    response = app.get("/api/auth/providers")

    assert "Set-Cookie" not in response.headers
    assert "Cache-Control" not in response.headers
    assert "Pragma" not in response.headers


def test_providers_keep_the_order_they_were_enabled_in(make_app):
    app = make_app(
        **CREDENTIALS,
        pyramid__includes="tests.functional.support.include_email_credentials",
    )

    ids = list(app.get("/api/auth/providers").json)

    assert ids.index(PROVIDER) < ids.index("login")  # settings, then code
    assert app.get("/api/auth/providers").json["login"]["name"] == "Email and password"


def test_providers_urls_follow_a_custom_base_path(make_app):
    app = make_app(**CREDENTIALS, auth__base_path="/auth")

    entry = app.get("/auth/providers").json[PROVIDER]

    assert entry["signinUrl"] == f"http://localhost/auth/signin/{PROVIDER}"
    assert entry["callbackUrl"] == f"http://localhost/auth/callback/{PROVIDER}"
    assert app.get("/api/auth/providers", expect_errors=True).status_int == 404


def test_providers_urls_follow_auth_url(make_app):
    app = make_app(**CREDENTIALS, auth__url="https://auth.example.com/custom/auth")

    entry = app.get("/custom/auth/providers").json[PROVIDER]

    assert (
        entry["signinUrl"] == f"https://auth.example.com/custom/auth/signin/{PROVIDER}"
    )


def test_post_providers_is_an_unknown_action_reported_as_configuration(app):
    response = app.post("/api/auth/providers")

    assert response.status_int == 302
    assert response.location == "http://localhost/api/auth/error?error=Configuration"

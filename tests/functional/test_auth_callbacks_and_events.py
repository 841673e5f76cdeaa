"""Auth.js callbacks (``config.add_auth_callback``) and the core's Pyramid events."""

from __future__ import annotations

import logging

import pytest

from app.auth import SessionUpdated, SignedIn, SignedOut
from tests.functional.support import (
    CREDENTIALS,
    PASSWORD,
    PROVIDER,
    csrf_token,
    events,
    is_deletion,
    set_cookies,
    sign_in,
)

SESSION = "authjs.session-token"
ACCESS_DENIED = "http://localhost/api/auth/error?error=AccessDenied"


def make(make_app, *includes: str, **settings):
    names = " ".join(f"tests.functional.support.include_{i}" for i in includes)
    return make_app(**CREDENTIALS, pyramid__includes=names, **settings)


# signIn -------------------------------------------------------------------------------
@pytest.mark.no_database
def test_signin_callback_false_is_access_denied(make_app):
    app = make(make_app, "deny_signin", "events")

    response = sign_in(app)

    assert response.status_int == 302
    assert response.location == ACCESS_DENIED
    assert SESSION not in set_cookies(response)
    assert events(app, SignedIn) == []


@pytest.mark.no_database
def test_signin_callback_that_raises_is_access_denied_and_logged(make_app, caplog):
    app = make(make_app, "failing_signin")

    with caplog.at_level(logging.INFO):
        response = sign_in(app)

    assert response.location == ACCESS_DENIED
    assert SESSION not in set_cookies(response)
    assert "signin callback crashed" in caplog.text


@pytest.mark.no_database
def test_signin_callback_string_redirects_there_without_a_session(make_app):
    app = make(make_app, "signin_redirect")

    response = sign_in(app, callbackUrl="/members")

    assert response.status_int == 302
    assert response.location == "http://localhost/welcome"
    assert SESSION not in set_cookies(response)


@pytest.mark.no_database
def test_signin_callback_string_goes_through_the_redirect_rule(make_app):
    app = make(make_app, "signin_foreign_redirect")

    response = sign_in(app)

    assert response.location == "http://localhost"


@pytest.mark.no_database
def test_signin_callback_is_not_asked_when_authorize_refuses(make_app):
    app = make(make_app, "deny_signin")

    response = sign_in(app, password="wrong")

    assert response.location.endswith("error=CredentialsSignin&code=credentials")


# redirect -----------------------------------------------------------------------------
def test_redirect_callback_decides_which_urls_are_allowed(make_app):
    app = make(make_app, "partner_redirects")

    allowed = sign_in(app, callbackUrl="https://partner.example/after")
    refused = sign_in(app, callbackUrl="https://evil.example/after")

    assert allowed.location == "https://partner.example/after"
    assert refused.location == "http://localhost"


# jwt ----------------------------------------------------------------------------------
def test_jwt_callback_sees_the_user_and_account_with_trigger_signin(make_app):
    app = make(make_app, "jwt_capture")

    sign_in(app)

    first = app.app.registry["test.jwt_calls"][0]
    assert first["trigger"] == "signIn"
    assert first["user"].id == "1"
    assert first["account"].provider == PROVIDER
    assert first["account"].type == "credentials"
    assert first["token"] == {
        "name": "Alice Example",
        "email": "alice@example.com",
        "picture": "https://example.com/alice.png",
        "sub": "1",
    }


def test_jwt_callback_returning_none_ends_the_session(make_app):
    app = make(make_app, "jwt_capture")
    sign_in(app, "revoked")

    response = app.get("/api/auth/session")

    assert response.body == b"null"
    assert is_deletion(set_cookies(response)[SESSION])
    assert app.get("/").text.count("You are not signed in.") == 1


def test_jwt_callback_runs_on_every_session_read(make_app):
    app = make(make_app, "jwt_capture")
    sign_in(app)

    app.get("/api/auth/session")
    app.get("/api/auth/session")

    reads = [c for c in app.app.registry["test.jwt_calls"] if c.get("trigger") is None]
    assert len(reads) == 2


# session ------------------------------------------------------------------------------
def test_session_callback_shapes_the_session_json(make_app):
    app = make(make_app, "session_shape")
    sign_in(app)

    body = app.get("/api/auth/session").json

    assert body["user"] == {
        "name": "Alice Example",
        "email": "alice@example.com",
        "image": "https://example.com/alice.png",
        "id": "1",
    }
    assert body["tier"] == "gold"
    assert "expires" in body


# events -------------------------------------------------------------------------------
def test_signed_in_event_carries_user_and_account(make_app):
    app = make(make_app, "events")

    sign_in(app)

    (event,) = events(app, SignedIn)
    assert event.user.id == "1"
    assert event.account.provider == PROVIDER
    assert event.is_new_user is False
    assert event.request is not None


@pytest.mark.no_database
def test_failed_sign_in_fires_nothing(make_app):
    app = make(make_app, "events")

    sign_in(app, password="wrong")

    assert events(app) == []


def test_session_read_fires_session_updated(make_app):
    app = make(make_app, "events")
    sign_in(app)

    body = app.get("/api/auth/session").json

    (event,) = events(app, SessionUpdated)
    assert event.trigger is None
    assert event.session == body
    assert event.token["sub"] == "1"


def test_session_update_fires_session_updated_with_trigger_update(make_app):
    app = make(make_app, "events")
    sign_in(app)

    app.post_json("/api/auth/session", {"csrfToken": csrf_token(app), "data": {"x": 1}})

    assert [e.trigger for e in events(app, SessionUpdated)] == ["update"]


@pytest.mark.no_database
def test_no_session_no_session_updated(make_app):
    app = make(make_app, "events")

    app.get("/api/auth/session")

    assert events(app, SessionUpdated) == []


def test_signout_fires_signed_out(make_app):
    app = make(make_app, "events")
    sign_in(app)

    app.post("/api/auth/signout", {"csrfToken": csrf_token(app)})

    (event,) = events(app, SignedOut)
    assert event.token["email"] == "alice@example.com"


def test_callbacks_and_events_of_one_app_do_not_leak_into_another(make_app):
    denied = make(make_app, "deny_signin")
    plain = make_app(**CREDENTIALS)

    assert sign_in(denied).location == ACCESS_DENIED
    assert sign_in(plain).location == "http://localhost"
    assert plain.app.registry.get("test.events") is None
    assert sign_in(plain, password=PASSWORD).status_int == 302

"""``config.add_credentials_error``: a CredentialsSignin code's own message."""

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from app.auth import Credentials, CredentialsSignin

HERE = "tests.functional.test_auth_credentials_errors"


def refuse_as_locked(request, credentials):
    raise CredentialsSignin(code="locked")


def include_locked(config):
    config.include("app.auth")  # the core's directives; main() includes it once
    config.add_auth_provider(Credentials(authorize=refuse_as_locked, id="locked"))
    config.add_credentials_error("locked", "This account is locked.")


def include_locked_again(config):
    config.include("app.auth")
    config.add_credentials_error("locked", "Locked, said otherwise.")


def include_no_message(config):
    config.include("app.auth")
    config.add_credentials_error("locked", "")


def alerts(page) -> list[str]:
    return [a.get_text(" ", strip=True) for a in page.html.select('[role="alert"]')]


@pytest.mark.no_database
def test_a_code_with_a_message_shows_it_and_others_the_generic_one(make_app):
    browser = make_app(pyramid__includes=f"{HERE}.include_locked")
    token = browser.get("/api/auth/csrf").json["csrfToken"]

    refused = browser.post(
        "/api/auth/callback/locked", {"csrfToken": token}, status=302
    )
    other = browser.get(
        "/api/auth/signin", params={"error": "CredentialsSignin", "code": "other"}
    )

    assert refused.location.endswith("error=CredentialsSignin&code=locked")
    assert alerts(refused.follow()) == ["This account is locked."]
    assert alerts(other) == [
        "Sign in failed. Check the details you provided are correct."
    ]


@pytest.mark.no_database
def test_two_messages_for_one_code_conflict_at_start_up(make_app):
    with pytest.raises(ConfigurationConflictError):
        make_app(pyramid__includes=f"{HERE}.include_locked {HERE}.include_locked_again")


@pytest.mark.no_database
def test_a_code_needs_a_message(make_app):
    with pytest.raises(ConfigurationError, match="needs a code and a message"):
        make_app(pyramid__includes=f"{HERE}.include_no_message")

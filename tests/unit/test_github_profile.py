"""The GitHub preset's profile mapping, checked against recorded GitHub API answers.

The JSON under ``tests/data/github/`` has the shape of real answers of
``GET /user``, ``GET /user/emails`` and the token endpoint (only 127.0.0.1
is reachable from the tests, so the answers are data).
"""

# ruff: noqa: S105, S106 - test credentials

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyramid.exceptions import ConfigurationError

from app.auth import GitHub
from app.auth.providers import provider_from_settings
from app.auth.providers.github import (
    API_URL,
    AUTHORIZATION_ENDPOINT,
    TOKEN_ENDPOINT,
    github_user,
    verified_email,
)
from app.auth.settings import parse_settings

DATA = Path(__file__).resolve().parent.parent / "data" / "github"
SECRET = "unit-test-secret-0123456789abcdef0123456789"


def recorded(name: str):
    return json.loads((DATA / name).read_text())


def github() -> GitHub:
    return GitHub(client_id="Iv1.8a61f9b3a7aba766", client_secret="shh")


def test_profile_maps_like_authjs_with_the_verification_of_fetch_profile():
    user = github_user({**recorded("user.json"), "email_verified": True})

    assert user == {
        "id": "583231",
        "name": "The Octocat",
        "email": "Octocat@GitHub.com",
        "email_verified": True,
        "image": "https://avatars.githubusercontent.com/u/583231?v=4",
    }


def test_public_email_alone_is_not_verified():
    assert github_user(recorded("user.json"))["email_verified"] is False


def test_public_email_is_chosen_when_it_is_verified():
    emails = [
        *recorded("emails.json"),
        {"email": "octocat@github.com", "primary": False, "verified": True},
    ]

    assert verified_email(emails, "Octocat@GitHub.com") == "octocat@github.com"


def test_unverified_public_email_gives_way_to_the_verified_primary():
    emails = [
        *recorded("emails.json"),
        {"email": "Octocat@GitHub.com", "primary": False, "verified": False},
    ]

    assert verified_email(emails, "Octocat@GitHub.com") == "Mona@Example.com"


def test_profile_without_a_name_uses_the_login():
    user = github_user(recorded("user_private_email.json"))

    assert user["name"] == "mona-dev"
    assert user["id"] == "9919"
    assert user["email"] is None


def test_primary_verified_address_is_chosen():
    assert verified_email(recorded("emails.json")) == "Mona@Example.com"


def test_unverified_primary_address_is_passed_over_for_a_verified_one():
    assert verified_email(recorded("emails_primary_unverified.json")) == (
        "still-verified@example.org"
    )


def test_no_verified_address_means_no_email():
    assert verified_email(recorded("emails_none_verified.json")) is None


@pytest.mark.parametrize(
    "answer",
    [
        None,
        {},
        "x",
        [],
        [{"email": 3, "verified": True}],
        {"message": "Requires authentication"},
    ],
)
def test_unexpected_emails_answers_mean_no_email(answer):
    assert verified_email(answer) is None


def test_outcome_is_an_oauth_account_with_the_token_fields():
    profile = {
        **recorded("user_private_email.json"),
        "email": verified_email(recorded("emails.json")),
        "email_verified": True,
    }

    outcome = github().outcome(profile, recorded("token.json"))

    assert outcome.user.email == "mona@example.com"
    assert outcome.user.name == "mona-dev"
    assert outcome.user.image == "https://avatars.githubusercontent.com/u/9919?v=4"
    account = outcome.account
    assert (account.type, account.provider, account.provider_account_id) == (
        "oauth",
        "github",
        "9919",
    )
    assert account.access_token == "gho_16C7e42F292c6912E7710c838347Ae178B4a"
    assert account.token_type == "bearer"
    assert account.scope == "read:user,user:email"
    assert account.id_token is None and account.expires_at is None
    assert outcome.profile["login"] == "mona-dev"


def test_a_profile_callback_replaces_the_mapping():
    provider = GitHub(
        client_id="id",
        client_secret="secret",
        profile=lambda p, t: {
            "id": p["login"],
            "email": None,
            "name": p["login"].upper(),
        },
    )

    outcome = provider.outcome(recorded("user.json"), recorded("token.json"))

    assert outcome.account.provider_account_id == "octocat"
    assert outcome.user.name == "OCTOCAT"


def test_preset_defaults_are_githubs():
    provider = github()

    assert (provider.id, provider.name, provider.type) == ("github", "GitHub", "oauth")
    assert provider.scope == "read:user user:email"
    metadata = provider.server_metadata(1.0)
    assert metadata["authorization_endpoint"] == AUTHORIZATION_ENDPOINT
    assert metadata["token_endpoint"] == TOKEN_ENDPOINT
    assert metadata["userinfo_endpoint"] == API_URL + "/user"
    assert provider.checks == ("pkce", "state")
    assert provider.token_endpoint_auth_method == "client_secret_basic"


def _settings(**extra):
    return {
        "app.env": "testing",
        "auth.secret": SECRET,
        "auth.trust_host": "true",
        "auth.providers": "github",
        **extra,
    }


def test_github_by_settings_and_environment():
    settings = parse_settings(
        _settings(),
        environ={"AUTH_GITHUB_ID": "env-id", "AUTH_GITHUB_SECRET": "env-secret"},
    )

    provider = provider_from_settings(settings.providers[0], settings)

    assert isinstance(provider, GitHub)
    assert (provider.client_id, provider.client_secret) == ("env-id", "env-secret")


def test_github_without_client_id_names_the_setting():
    settings = parse_settings(
        _settings(**{"auth.provider.github.client_secret": "x"}), environ={}
    )

    with pytest.raises(ConfigurationError) as info:
        provider_from_settings(settings.providers[0], settings)

    assert "auth.provider.github.client_id (or AUTH_GITHUB_ID)" in str(info.value)


def test_github_endpoints_must_be_https():
    with pytest.raises(ValueError, match="not an https URL"):
        GitHub(client_id="id", client_secret="s", api_url="http://api.github.example")

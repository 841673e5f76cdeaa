"""Providers from settings alone: ``auth.providers``, ``auth.provider.<id>.*``, env.

A missing or bad value stops start-up with a ConfigurationError naming the
key (and the ``AUTH_<ID>_*`` variable that may hold it instead).
"""

# ruff: noqa: S105, S106 - test credentials

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError

from app.auth import OIDC, Email, GitHub, Google, OAuth2
from app.auth.providers import provider_from_settings
from app.auth.providers.email import DEFAULT_MAX_AGE
from app.auth.providers.google import GOOGLE_ISSUER
from app.auth.providers.oauth import ProviderError
from app.auth.settings import parse_settings

SECRET = "unit-test-secret-0123456789abcdef0123456789"


def build(providers: str, environ: dict | None = None, **options: str):
    settings = parse_settings(
        {
            "app.env": "testing",
            "auth.secret": SECRET,
            "auth.trust_host": "true",
            "auth.providers": providers,
            **{k.replace("__", "."): v for k, v in options.items()},
        },
        environ=environ or {},
    )
    return [provider_from_settings(ps, settings) for ps in settings.providers]


def test_oidc_by_settings():
    [provider] = build(
        "corp",
        auth__provider__corp__type="oidc",
        auth__provider__corp__issuer="https://login.corp.example/",
        auth__provider__corp__client_id="cid",
        auth__provider__corp__client_secret="csecret",
        auth__provider__corp__name="Corp",
        auth__provider__corp__scope="openid email",
        auth__provider__corp__allow_dangerous_email_account_linking="yes",
        auth__provider__corp__authorization_params="prompt=select_account hd=corp.test",
    )

    assert isinstance(provider, OIDC)
    assert (provider.id, provider.name, provider.type) == ("corp", "Corp", "oidc")
    assert provider.issuer == "https://login.corp.example"
    assert provider.discovery_url == (
        "https://login.corp.example/.well-known/openid-configuration"
    )
    assert (provider.client_id, provider.client_secret) == ("cid", "csecret")
    assert provider.scope == "openid email"
    assert provider.checks == ("pkce", "state", "nonce")
    assert provider.allow_dangerous_email_account_linking is True
    assert provider.authorization_params == {
        "prompt": "select_account",
        "hd": "corp.test",
    }
    assert provider.token_endpoint_auth_method == "client_secret_basic"


def test_oidc_type_follows_from_an_issuer_in_the_environment():
    [provider] = build(
        "corp",
        environ={
            "AUTH_CORP_ISSUER": "https://id.corp.example",
            "AUTH_CORP_ID": "env-id",
            "AUTH_CORP_SECRET": "env-s",
        },
    )

    assert isinstance(provider, OIDC)
    assert (provider.issuer, provider.client_id, provider.client_secret) == (
        "https://id.corp.example",
        "env-id",
        "env-s",
    )
    assert provider.name == "corp"


@pytest.mark.parametrize(
    "missing, key",
    [
        ("issuer", "auth.provider.corp.issuer (or AUTH_CORP_ISSUER)"),
        ("client_id", "auth.provider.corp.client_id (or AUTH_CORP_ID)"),
        ("client_secret", "auth.provider.corp.client_secret (or AUTH_CORP_SECRET)"),
    ],
)
def test_missing_oidc_setting_is_named(missing, key):
    options = {
        "auth__provider__corp__type": "oidc",
        "auth__provider__corp__issuer": "https://id.corp.example",
        "auth__provider__corp__client_id": "cid",
        "auth__provider__corp__client_secret": "cs",
    }
    del options[f"auth__provider__corp__{missing}"]

    with pytest.raises(ConfigurationError) as info:
        build("corp", **options)

    assert f"setting {key}: is required" in str(info.value)


def test_public_client_needs_no_secret():
    [provider] = build(
        "corp",
        auth__provider__corp__issuer="https://id.corp.example",
        auth__provider__corp__client_id="cid",
        auth__provider__corp__token_endpoint_auth_method="none",
    )

    assert provider.client_secret is None
    assert provider.token_endpoint_auth_method == "none"


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("issuer", "http://id.corp.example", "not an https URL"),
        ("checks", "pkce csrf", "unknown OAuth check"),
        ("token_endpoint_auth_method", "private_key_jwt", "token_endpoint_auth_method"),
        ("allow_dangerous_email_account_linking", "perhaps", "expected true or false"),
        ("authorization_params", "prompt", "expected key=value"),
    ],
)
def test_bad_oidc_values_stop_startup(option, value, message):
    options = {
        "auth__provider__corp__type": "oidc",
        "auth__provider__corp__issuer": "https://id.corp.example",
        "auth__provider__corp__client_id": "cid",
        "auth__provider__corp__client_secret": "cs",
        f"auth__provider__corp__{option}": value,
    }

    with pytest.raises(ConfigurationError, match=message) as info:
        build("corp", **options)

    assert "auth.provider.corp" in str(info.value)


def test_google_by_environment_only():
    [provider] = build(
        "google",
        environ={
            "AUTH_GOOGLE_ID": "gid.apps.googleusercontent.com",
            "AUTH_GOOGLE_SECRET": "gsecret",
        },
    )

    assert isinstance(provider, Google)
    assert (provider.id, provider.name, provider.type) == ("google", "Google", "oidc")
    assert provider.issuer == GOOGLE_ISSUER
    assert provider.discovery_url == (
        "https://accounts.google.com/.well-known/openid-configuration"
    )


def test_github_and_plain_oauth_by_settings():
    github, wiki = build(
        "github wiki",
        auth__provider__github__client_id="gh",
        auth__provider__github__client_secret="s",
        auth__provider__wiki__type="oauth",
        auth__provider__wiki__client_id="w",
        auth__provider__wiki__client_secret="s",
        auth__provider__wiki__authorization_endpoint="https://wiki.example/oauth/authorize",
        auth__provider__wiki__token_endpoint="https://wiki.example/oauth/token",
        auth__provider__wiki__userinfo_endpoint="https://wiki.example/api/me",
    )

    assert isinstance(github, GitHub) and github.type == "oauth"
    assert isinstance(wiki, OAuth2) and wiki.server_metadata(1.0)[
        "userinfo_endpoint"
    ] == ("https://wiki.example/api/me")
    assert wiki.checks == ("pkce", "state")


def test_plain_oauth_needs_its_endpoints():
    with pytest.raises(
        ConfigurationError, match="auth.provider.wiki.authorization_endpoint"
    ):
        build(
            "wiki",
            auth__provider__wiki__type="oauth",
            auth__provider__wiki__client_id="w",
            auth__provider__wiki__client_secret="s",
        )


def test_email_by_settings():
    [provider] = build(
        "email",
        auth__provider__email__from="Site <login@site.example>",
        auth__provider__email__max_age="3600",
    )
    [default] = build("email")

    assert isinstance(provider, Email)
    assert (provider.id, provider.name, provider.type) == ("email", "Email", "email")
    assert provider.sender == "Site <login@site.example>"
    assert provider.max_age == 3600
    assert default.max_age == DEFAULT_MAX_AGE == 600  # ten minutes (Auth.js: 86400)
    assert default.sender is None  # pyramid_mailer's mail.default_sender


def test_email_max_age_must_be_a_number_of_seconds():
    with pytest.raises(ConfigurationError, match="auth.provider.email.max_age"):
        build("email", auth__provider__email__max_age="a day")


def test_python_constructors():
    oidc = OIDC(
        id="corp", issuer="https://id.corp.example", client_id="c", client_secret="s"
    )
    google = Google(client_id="g", client_secret="s")
    github = GitHub(
        client_id="h",
        client_secret="s",
        name="GitHub Enterprise",
        api_url="https://ghe.corp.example/api/v3",
    )
    email = Email(sender="login@site.example", max_age=600)

    assert [p.type for p in (oidc, google, github, email)] == [
        "oidc",
        "oidc",
        "oauth",
        "email",
    ]
    assert github.server_metadata(1.0)["userinfo_endpoint"] == (
        "https://ghe.corp.example/api/v3/user"
    )
    with pytest.raises(ValueError, match="client_secret is required"):
        OIDC(id="corp", issuer="https://id.corp.example", client_id="c")
    with pytest.raises(ValueError, match="max_age"):
        Email(max_age=0)


def test_authorization_params_cannot_replace_the_protocols_own():
    with pytest.raises(ValueError, match="may not set redirect_uri, state"):
        GitHub(
            client_id="h",
            client_secret="s",
            authorization_params={
                "state": "fixed",
                "redirect_uri": "https://evil.test",
            },
        )


# PKCE or state: one of them binds the callback to the browser --------------------------
def test_provider_without_pkce_or_state_stops_start_up():
    with pytest.raises(ConfigurationError) as info:
        build(
            "corp",
            auth__provider__corp__issuer="https://id.corp.example",
            auth__provider__corp__client_id="cid",
            auth__provider__corp__client_secret="cs",
            auth__provider__corp__checks="nonce",
        )

    message = str(info.value)
    assert "auth.provider.corp.checks" in message
    assert "auth.provider.corp.checks_unsupported = true" in message


def test_checks_unsupported_says_the_provider_can_do_neither():
    [provider] = build(
        "corp",
        auth__provider__corp__issuer="https://id.corp.example",
        auth__provider__corp__client_id="cid",
        auth__provider__corp__client_secret="cs",
        auth__provider__corp__checks="nonce",
        auth__provider__corp__checks_unsupported="true",
    )

    assert provider.checks == ("nonce",)
    assert provider.checks_unsupported is True


def test_constructor_refuses_neither_pkce_nor_state():
    with pytest.raises(ValueError, match="checks must include pkce or state"):
        OAuth2(
            id="wiki",
            client_id="w",
            client_secret="s",
            authorization_endpoint="https://wiki.example/a",
            token_endpoint="https://wiki.example/t",
            userinfo_endpoint="https://wiki.example/u",
            checks=[],
        )

    provider = OIDC(
        id="corp",
        issuer="https://id.corp.example",
        client_id="c",
        client_secret="s",
        checks=["nonce"],
        checks_unsupported=True,
    )
    assert provider.checks == ("nonce",)


def test_discovery_taking_pkce_away_leaves_no_protection_and_is_refused():
    # Configured with pkce and nonce; the server says it cannot do S256.
    provider = OIDC(
        id="corp",
        issuer="https://id.corp.example",
        client_id="c",
        client_secret="s",
        checks=["pkce", "nonce"],
    )
    metadata = {"code_challenge_methods_supported": ["plain"]}

    with pytest.raises(ProviderError, match="neither pkce nor state"):
        provider.usable_checks(metadata)
    assert provider.usable_checks({}) == ("pkce", "nonce")

"""Settings: every bad value stops start-up with a ConfigurationError naming the key."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from app.auth import auth_settings
from app.auth.settings import DEFAULT_BASE_PATH, parse_settings
from app.mail import parse_settings as mail_settings
from app.models import database_url
from app.registration.settings import parse_settings as registration_settings

STRONG = "k" * 48
OTHER = "j" * 48


def settings(**overrides: str) -> dict[str, str]:
    base = {
        "app.env": "production",
        "auth.secret": STRONG,
        "auth.url": "https://example.com",
    }
    base.update({k.replace("__", "."): v for k, v in overrides.items()})
    return {k: v for k, v in base.items() if v is not None}


def refused(values: dict, environ: dict | None = None) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_settings(values, environ={} if environ is None else environ)
    return str(info.value)


# secrets ------------------------------------------------------------------------------
def test_missing_secret_stops_production_naming_the_key():
    message = refused(settings(auth__secret=None))

    assert "auth.secret" in message and "AUTH_SECRET" in message


@pytest.mark.parametrize("secret", ["short", "x" * 31, "dev-only-" + "x" * 40])
def test_weak_secret_stops_production_naming_the_key(secret):
    assert "auth.secret" in refused(settings(auth__secret=secret))


def test_one_weak_secret_among_strong_ones_stops_production():
    assert "auth.secret" in refused(settings(auth__secret=f"{STRONG} weak"))


@pytest.mark.parametrize("env", ["testing", "production"])
def test_blank_secret_is_missing(env):
    assert "auth.secret" in refused(settings(app__env=env, auth__secret="   "))


def test_development_without_secret_starts_with_a_random_one():
    parsed = parse_settings(
        settings(app__env="development", auth__secret=None), environ={}
    )

    assert len(parsed.secrets) == 1 and len(parsed.secrets[0]) >= 32


def test_development_accepts_a_weak_secret():
    parsed = parse_settings(
        settings(app__env="development", auth__secret="dev"), environ={}
    )

    assert parsed.secrets == ("dev",)


def test_secrets_are_whitespace_separated_and_ordered():
    parsed = parse_settings(settings(auth__secret=f"{STRONG}\n  {OTHER}"), environ={})

    assert parsed.secrets == (STRONG, OTHER)


def test_auth_secret_environment_variable_overrides_the_ini():
    parsed = parse_settings(settings(), environ={"AUTH_SECRET": OTHER})

    assert parsed.secrets == (OTHER,)


def test_weak_auth_secret_from_the_environment_is_named_in_the_error():
    message = refused(settings(), environ={"AUTH_SECRET": "weak"})

    assert "AUTH_SECRET" in message


def test_numbered_rotation_secrets_come_first_highest_number_encrypting():
    environ = {
        "AUTH_SECRET": "0" * 40,
        "AUTH_SECRET_1": "1" * 40,
        "AUTH_SECRET_2": "2" * 40,
        "AUTH_SECRET_3": "3" * 40,
    }

    parsed = parse_settings(settings(auth__secret=None), environ=environ)

    assert parsed.secrets == ("3" * 40, "2" * 40, "1" * 40, "0" * 40)
    assert parsed.csrf_secret == ",".join(parsed.secrets)


def test_rotation_secrets_skip_the_numbers_that_are_absent():
    environ = {"AUTH_SECRET": "0" * 40, "AUTH_SECRET_2": "2" * 40}

    parsed = parse_settings(settings(auth__secret=None), environ=environ)

    assert parsed.secrets == ("2" * 40, "0" * 40)


def test_weak_rotation_secret_stops_production():
    assert "auth.secret" in refused(settings(), environ={"AUTH_SECRET_1": "weak"})


# app.env ------------------------------------------------------------------------------
def test_unknown_environment_is_refused_naming_the_key():
    assert "app.env" in refused(settings(app__env="staging"))


def test_app_env_environment_variable_is_named_when_bad():
    assert "APP_ENV" in refused(settings(), environ={"APP_ENV": "qa"})


# base path and URL -------------------------------------------------------------------
def test_default_base_path_is_api_auth():
    assert (
        parse_settings(settings(), environ={}).base_path
        == DEFAULT_BASE_PATH
        == "/api/auth"
    )


@pytest.mark.parametrize(
    ("value", "expected"), [("auth", "/auth"), ("/auth/", "/auth"), (" /a/b ", "/a/b")]
)
def test_base_path_is_normalised(value, expected):
    assert (
        parse_settings(settings(auth__base_path=value), environ={}).base_path
        == expected
    )


@pytest.mark.parametrize(
    "value",
    [
        "/",
        "//",
        "/api//auth",
        "/api/../auth",
        "/./auth",
        "/api/auth?x=1",
        "/api/auth#x",
        "/api auth",
        "/api/%2e%2e",
        "/api\\auth",
    ],
)
def test_bad_base_path_is_refused_naming_the_key(value):
    assert "auth.base_path" in refused(settings(auth__base_path=value))


def test_auth_url_path_becomes_the_base_path():
    parsed = parse_settings(
        settings(auth__url="https://example.com/custom/auth/"), environ={}
    )

    assert parsed.url == "https://example.com"
    assert parsed.base_path == "/custom/auth"


def test_explicit_base_path_wins_over_the_url_path():
    parsed = parse_settings(
        settings(auth__url="https://example.com/x", auth__base_path="/y"), environ={}
    )

    assert parsed.base_path == "/y"


@pytest.mark.parametrize(
    "value",
    [
        "example.com",
        "ftp://example.com",
        "http://",
        "https:///path",
        "javascript:alert(1)",
        "//example.com",
    ],
)
def test_bad_auth_url_is_refused_naming_the_key(value):
    assert "auth.url" in refused(settings(auth__url=value))


def test_auth_url_environment_variable_overrides_and_is_named_when_bad():
    parsed = parse_settings(settings(), environ={"AUTH_URL": "http://localhost:3000"})
    assert parsed.url == "http://localhost:3000"

    assert "AUTH_URL" in refused(settings(), environ={"AUTH_URL": "localhost:3000"})


def test_production_without_url_needs_trust_host():
    assert "auth.url" in refused(settings(auth__url=None))


def test_production_without_url_starts_when_host_is_trusted():
    parsed = parse_settings(
        settings(auth__url=None, auth__trust_host="true"), environ={}
    )

    assert parsed.url is None and parsed.trust_host is True


def test_auth_trust_host_variable_set_to_anything_trusts_the_host():
    # Auth.js: AUTH_TRUST_HOST present (any value) -> trustHost
    parsed = parse_settings(settings(auth__url=None), environ={"AUTH_TRUST_HOST": "1"})

    assert parsed.trust_host is True


def test_bad_trust_host_flag_is_refused_naming_the_key():
    assert "auth.trust_host" in refused(settings(auth__trust_host="sometimes"))


def test_development_trusts_the_host_by_default():
    parsed = parse_settings(
        settings(app__env="development", auth__url=None), environ={}
    )

    assert parsed.trust_host is True


# session ------------------------------------------------------------------------------
def test_session_defaults_are_authjs_defaults():
    parsed = parse_settings(settings(), environ={})

    assert parsed.session_strategy == "jwt"
    assert parsed.session_max_age == 2592000
    assert parsed.session_update_age == 86400


def test_unknown_session_strategy_is_refused_naming_the_key():
    assert "auth.session.strategy" in refused(
        settings(auth__session__strategy="cookie")
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("auth.session.max_age", "thirty days"),
        ("auth.session.max_age", "1.5"),
        ("auth.session.max_age", "10"),
        ("auth.session.max_age", "-5"),
        ("auth.session.update_age", "soon"),
        ("auth.session.update_age", "-1"),
        ("auth.session.update_age", str(2592000 + 1)),
        ("auth.max_body_bytes", "big"),
        ("auth.max_body_bytes", "10"),
        ("auth.http_timeout", "fast"),
        ("auth.http_timeout", "0"),
    ],
)
def test_bad_numbers_are_refused_naming_the_key(key, value):
    assert key in refused({**settings(), key: value})


def test_absolute_lifetime_defaults_to_thirty_days_or_a_longer_max_age():
    default = parse_settings(settings(), environ={})
    longer = parse_settings(settings(auth__session__max_age="5184000"), environ={})

    assert default.session_absolute_max_age == 30 * 24 * 3600
    assert longer.session_absolute_max_age == 5184000


def test_absolute_lifetime_may_not_be_shorter_than_max_age():
    message = refused(
        settings(auth__session__max_age="3600", auth__session__absolute_max_age="3599")
    )

    assert "auth.session.absolute_max_age" in message
    assert "auth.session.max_age (3600)" in message


def test_absolute_lifetime_is_read():
    parsed = parse_settings(
        settings(
            auth__session__absolute_max_age="86400", auth__session__max_age="3600"
        ),
        environ={},
    )

    assert parsed.session_absolute_max_age == 86400


# development hosts for mailed links -----------------------------------------------------
def test_dev_hosts_default_to_the_loopback_names():
    parsed = parse_settings(settings(), environ={})

    assert parsed.dev_hosts == {"localhost", "127.0.0.1", "::1"}


def test_dev_hosts_are_lower_cased_without_brackets():
    parsed = parse_settings(settings(auth__dev_hosts="Dev.Test [::1]"), environ={})

    assert parsed.dev_hosts == {"dev.test", "::1"}


def test_update_age_may_not_exceed_max_age():
    message = refused(
        settings(auth__session__max_age="3600", auth__session__update_age="7200")
    )

    assert "auth.session.update_age" in message


# pages --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "page", ["signin", "signout", "error", "verify_request", "new_user"]
)
def test_custom_page_must_be_a_path_or_url(page):
    assert f"auth.pages.{page}" in refused(
        {**settings(), f"auth.pages.{page}": "login"}
    )


def test_custom_pages_are_kept():
    parsed = parse_settings(
        {
            **settings(),
            "auth.pages.signin": "/login",
            "auth.pages.error": "https://example.com/oops",
        },
        environ={},
    )

    assert dict(parsed.pages) == {
        "signin": "/login",
        "error": "https://example.com/oops",
    }


# providers ----------------------------------------------------------------------------
def test_duplicate_provider_is_refused_naming_the_key():
    message = refused(settings(auth__providers="credentials email credentials"))

    assert "auth.providers" in message and "credentials" in message


@pytest.mark.parametrize("pid", ["bad/id", "a.b", "é", "x?y"])
def test_invalid_provider_id_is_refused(pid):
    assert "auth.providers" in refused(settings(auth__providers=pid))


def test_provider_whose_type_cannot_be_guessed_needs_a_type():
    assert "auth.provider.corp.type" in refused(settings(auth__providers="corp"))


def test_provider_env_variables_fill_client_id_secret_issuer():
    environ = {
        "AUTH_MY_IDP_ID": "cid",
        "AUTH_MY_IDP_SECRET": "csecret",
        "AUTH_MY_IDP_ISSUER": "https://idp.example.com",
    }

    parsed = parse_settings(settings(auth__providers="my-idp"), environ=environ)

    (provider,) = parsed.providers
    assert provider.id == "my-idp" and provider.type == "oidc"
    assert dict(provider.options) == {
        "client_id": "cid",
        "client_secret": "csecret",
        "issuer": "https://idp.example.com",
    }


def test_provider_env_variables_override_ini_options():
    values = {
        **settings(auth__providers="corp"),
        "auth.provider.corp.type": "oidc",
        "auth.provider.corp.client_id": "ini",
    }

    parsed = parse_settings(values, environ={"AUTH_CORP_ID": "env"})

    assert parsed.providers[0].options["client_id"] == "env"


# include time: the settings reach start-up --------------------------------------------
def _include(values: dict) -> Configurator:
    config = Configurator(settings=values)
    config.include("app.auth")
    config.commit()
    return config


def test_include_stores_the_parsed_settings_in_the_registry():
    config = _include(settings())

    assert auth_settings(config.registry).url == "https://example.com"


def test_include_with_a_bad_value_stops_start_up():
    with pytest.raises(ConfigurationError, match="auth.session.strategy"):
        _include(settings(auth__session__strategy="nope"))


def test_credentials_provider_by_settings_needs_authorize():
    with pytest.raises(ConfigurationError, match="auth.provider.credentials.authorize"):
        _include(settings(auth__providers="credentials"))


def test_credentials_authorize_that_cannot_be_imported_is_named():
    values = {
        **settings(auth__providers="credentials"),
        "auth.provider.credentials.authorize": "tests.nowhere:authorize",
    }

    with pytest.raises(ConfigurationError, match="auth.provider.credentials.authorize"):
        _include(values)


def test_unknown_provider_type_is_named():
    values = {
        **settings(auth__providers="corp"),
        "auth.provider.corp.type": "carrier-pigeon",
    }

    with pytest.raises(ConfigurationError, match="auth.provider.corp.type"):
        _include(values)


# One reader for what every package reads -------------------------------------------
@pytest.mark.parametrize(
    "parse",
    [
        parse_settings,
        registration_settings,
        mail_settings,
    ],
    ids=["auth", "registration", "mail"],
)
def test_every_package_reads_app_env_the_same_way(parse, monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    with pytest.raises(ConfigurationError, match=r"setting app\.env: must be one of"):
        parse({"app.env": "staging", "auth.secret": STRONG})


def test_database_url_wins_over_the_ini_and_a_missing_one_names_both(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://db.example/site")
    assert database_url({"sqlalchemy.url": "sqlite:///x.sqlite"}) == (
        "postgresql+psycopg://db.example/site"
    )
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(
        ConfigurationError,
        match=r"setting sqlalchemy\.url \(or DATABASE_URL\): is required",
    ):
        database_url({})

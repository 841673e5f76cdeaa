"""Registration's settings: defaults, and start-up refusals that name the key."""

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError

from app.registration.settings import parse_settings


def parse(**values):
    return parse_settings(
        {k.replace("__", "."): v for k, v in values.items()}, environ={}
    )


def test_defaults_follow_owasp_and_nist():
    settings = parse()

    assert settings.email_verification == "optional"
    assert (settings.password_min_length, settings.password_max_length) == (8, 128)
    argon2 = settings.argon2
    assert (argon2.memory_cost, argon2.time_cost, argon2.parallelism) == (19456, 2, 1)
    assert (settings.reset_max_age, settings.verify_max_age) == (3600, 86400)
    limits = settings.ratelimit
    assert limits.enabled and limits.storage_url == "memory://"
    assert [str(i) for i in limits.limits["signin_account"]] == [
        "5 per 1 minute",
        "20 per 1 hour",
    ]
    assert limits.texts["magic_link_ip"] == "5/minute;30/hour"
    assert limits.texts["mail_account"] == "3/minute;10/hour"
    assert limits.texts["account_mail"] == "5/minute;20/hour"
    assert settings.reauth_max_age == 600
    assert settings.environment == "production"


@pytest.mark.parametrize(
    ("values", "key"),
    [
        (
            {"registration__argon2__memory_cost": "19455"},
            "registration.argon2.memory_cost",
        ),
        (
            {
                "registration__argon2__time_cost": "1",
                "registration__argon2__memory_cost": "19456",
            },
            "registration.argon2.memory_cost",
        ),
        ({"registration__argon2__time_cost": "0"}, "registration.argon2.time_cost"),
        ({"registration__argon2__parallelism": "0"}, "registration.argon2.parallelism"),
        (
            {"registration__password_min_length": "7"},
            "registration.password_min_length",
        ),
        (
            {"registration__password_max_length": "63"},
            "registration.password_max_length",
        ),
        (
            {"registration__email_verification": "sometimes"},
            "registration.email_verification",
        ),
        ({"ratelimit__signin_ip": "lots"}, "ratelimit.signin_ip"),
        ({"ratelimit__magic_link_ip": "5/fortnight"}, "ratelimit.magic_link_ip"),
        ({"ratelimit__mail_account": ";"}, "ratelimit.mail_account"),
        ({"app__env": "staging"}, "app.env"),
        ({"ratelimit__storage_url": "mongodb://x"}, "ratelimit.storage_url"),
        ({"registration__reset_max_age": "10"}, "registration.reset_max_age"),
        ({"registration__reauth_max_age": "-1"}, "registration.reauth_max_age"),
        ({"registration__reauth_max_age": "86401"}, "registration.reauth_max_age"),
        ({"ratelimit__account_mail": "often"}, "ratelimit.account_mail"),
    ],
)
def test_bad_values_stop_start_up_naming_the_key(values, key):
    with pytest.raises(ConfigurationError, match=key.replace(".", r"\.")):
        parse(**values)


@pytest.mark.parametrize(
    ("m", "t"), [(47104, 1), (12288, 3), (9216, 4), (7168, 5), (7168, 9)]
)
def test_every_owasp_argon2id_option_is_accepted(m, t):
    settings = parse(
        registration__argon2__memory_cost=str(m), registration__argon2__time_cost=str(t)
    )

    assert (settings.argon2.memory_cost, settings.argon2.time_cost) == (m, t)


def test_redis_url_from_the_environment_wins():
    settings = parse_settings(
        {"ratelimit.storage_url": "memory://"},
        environ={"REDIS_URL": "redis://127.0.0.1:6379/3"},
    )

    assert settings.ratelimit.storage_url == "redis://127.0.0.1:6379/3"

"""app.mail's settings: a queue in production, the dev maildir outside it only."""

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError

from app.mail import parse_settings


def parse(**values):
    return parse_settings(
        {k.replace("__", "."): v for k, v in values.items()}, environ={}
    )


def test_defaults():
    settings = parse(app__env="testing")

    assert settings.queue_path is None and settings.dev_maildir is None
    assert settings.queue_interval == 5.0


def test_production_needs_a_queue_naming_the_key():
    with pytest.raises(ConfigurationError, match=r"mail\.queue_path.*authsite-mail"):
        parse(app__env="production")

    assert parse(app__env="production", mail__queue_path="/q").queue_path == "/q"


def test_production_refuses_a_dev_maildir():
    with pytest.raises(ConfigurationError, match=r"mail\.dev_maildir"):
        parse(app__env="production", mail__queue_path="/q", mail__dev_maildir="/d")


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"mail__queue_interval": "soon"}, "mail.queue_interval"),
        ({"mail__queue_interval": "0"}, "mail.queue_interval"),
        ({"app__env": "staging"}, "app.env"),
    ],
)
def test_bad_values_stop_start_up_naming_the_key(values, key):
    with pytest.raises(ConfigurationError, match=key.replace(".", r"\.")):
        parse(**{"app__env": "testing", **values})

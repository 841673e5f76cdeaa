"""Mailed links come from configuration, never from the request's headers.

An attacker asks for a reset (or a confirmation link, or signs up) for the
victim's address with a forged ``Host`` or ``X-Forwarded-Host``; the victim
must get a link to the site (``auth.url``), not to the attacker's host with a
live token in it. Outside development the site refuses to start without
``auth.url``.
"""

# ruff: noqa: F811 - pytest fixtures imported from mail_support

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError
from webtest import TestApp

from tests.functional.registration.helpers import links, signup, unique_email
from tests.mail_support import mail_queue  # noqa: F401 - fixture

FORGED = [
    {"HTTP_HOST": "evil.example"},
    {"HTTP_X_FORWARDED_HOST": "evil.example", "HTTP_X_FORWARDED_PROTO": "https"},
    {"HTTP_HOST": "evil.example", "HTTP_X_FORWARDED_HOST": "evil.example:8443"},
]


def attacker(wsgi, headers: dict) -> TestApp:
    return TestApp(wsgi, extra_environ=headers)


def ask(app: TestApp, path: str, email: str) -> None:
    form = app.get(path).forms[0]
    form["email"] = email
    form.submit(status=200)


def assert_site_links_only(messages) -> None:
    found = [link for message in messages for link in links(message)]
    assert found
    assert all(link.startswith("http://localhost/") for link in found), found


@pytest.mark.parametrize("headers", FORGED)
def test_reset_and_confirmation_links_ignore_forged_hosts(
    smtp_server, make_wsgi, headers
):
    wsgi = make_wsgi()
    victim = unique_email("victim")
    signup(TestApp(wsgi), victim, status=302)
    smtp_server.wait_for(1)

    ask(attacker(wsgi, headers), "/account/reset", victim)
    ask(attacker(wsgi, headers), "/account/verify/resend", victim)

    messages = smtp_server.wait_for(3)
    assert_site_links_only(messages)


@pytest.mark.parametrize("mode", ["optional", "mandatory"])
@pytest.mark.parametrize("headers", FORGED)
def test_signup_mail_ignores_forged_hosts(smtp_server, make_wsgi, mode, headers):
    wsgi = make_wsgi(registration__email_verification=mode)
    owner = unique_email("owner")
    signup(TestApp(wsgi), owner, status="*")
    # the confirmation link of a new account, and in mandatory mode the
    # notice a second signup for a taken address sends its owner
    signup(attacker(wsgi, headers), unique_email("new"), status="*")
    signup(attacker(wsgi, headers), owner, status="*")

    expected = 3 if mode == "mandatory" else 2
    assert_site_links_only(smtp_server.wait_for(expected))


def test_queued_reset_tasks_keep_the_configured_origin(
    make_wsgi, mail_queue, smtp_server
):
    wsgi = make_wsgi()
    victim = unique_email("victim")
    signup(TestApp(wsgi), victim, status=302)

    ask(attacker(wsgi, FORGED[1]), "/account/reset", victim)
    mail_queue.deliver(TestApp(wsgi))

    assert_site_links_only(smtp_server.wait_for(2))


@pytest.mark.parametrize("env", ["testing", "production"])
@pytest.mark.no_database
def test_outside_development_the_site_needs_auth_url(make_wsgi, tmp_path, env):
    with pytest.raises(ConfigurationError, match=r"auth\.url \(AUTH_URL\)"):
        make_wsgi(app__env=env, auth__url="", mail__queue_path=str(tmp_path / "queue"))


@pytest.mark.parametrize("headers", [FORGED[1]])
def test_in_development_without_auth_url_a_forged_host_gets_no_link(
    smtp_server, make_wsgi, headers
):
    # Links follow the request there, but only for the hosts of auth.dev_hosts
    # (the core's public_origin): a forged one is refused, and nothing is mailed.
    # (A forged Host itself is refused at the door: tests/functional/test_dev_guard.py.)
    wsgi = make_wsgi(app__env="development", auth__url="")
    victim = unique_email("victim")
    signup(TestApp(wsgi), victim, status=302)
    smtp_server.wait_for(1)
    smtp_server.clear()

    form = attacker(wsgi, headers).get("/account/reset").forms[0]
    form["email"] = victim
    answer = form.submit(status="*")

    assert 400 <= answer.status_int < 500
    assert smtp_server.messages == []

"""Mailed sign-in links come from configuration, never from request headers.

With ``auth.url`` unset, the links used to be built from ``Host`` /
``X-Forwarded-Host``: ``curl -H 'Host: evil.example'`` had the site mail the
victim a live token on the attacker's host. Now ``auth.url`` is the link's
origin; outside development start-up refuses an email provider without it;
in development the request's host must be one of ``auth.dev_hosts``. The
mail goes through a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from pyramid.exceptions import ConfigurationError

from app.auth.models import VerificationToken
from tests.functional.support import csrf_token

EMAIL = {"auth__providers": "email", "auth__provider__email__from": "s@example.test"}
FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


def request_link(app, email: str = "victim@example.com", **kw):
    token = csrf_token(app, **kw)
    return app.post(
        "/api/auth/signin/email",
        {"csrfToken": token, "email": email, "callbackUrl": "/members"},
        expect_errors=True,
        **kw,
    )


def link_of(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"^(https?://\S+)\s*$", text, re.M).group(1)


def tokens(dbsession) -> int:
    dbsession.rollback()
    return dbsession.scalar(sa.select(sa.func.count()).select_from(VerificationToken))


def test_forged_host_headers_do_not_reach_the_mailed_link(make_app, smtp_server):
    app = make_app(**EMAIL, auth__url="http://site.example", auth__trust_host="true")

    response = request_link(app, headers=FORGED)

    assert response.status_int == 302
    [message] = smtp_server.wait_for(1)
    link = link_of(message)
    assert link.startswith("http://site.example/api/auth/callback/email?")
    assert parse_qs(urlsplit(link).query)["callbackUrl"] == [
        "http://site.example/members"
    ]
    assert message["Subject"] == "Sign in to site.example"
    assert "evil" not in message.as_string()


@pytest.mark.parametrize("env", ["testing", "production"])
@pytest.mark.no_database
def test_email_provider_without_auth_url_stops_start_up(make_wsgi, env, tmp_path):
    with pytest.raises(ConfigurationError) as info:
        make_wsgi(
            **EMAIL,
            app__env=env,
            auth__url="",
            auth__trust_host="true",
            mail__queue_path=str(tmp_path / "queue"),  # production needs one
        )

    message = str(info.value)
    assert "auth.url (AUTH_URL)" in message
    assert "email provider is enabled (email)" in message
    assert "Host header" in message


@pytest.mark.no_database
def test_without_an_email_provider_auth_url_may_stay_unset(make_wsgi):
    # The core does not ask for it; the site still does, because the
    # registration package mails verification and reset links.
    with pytest.raises(ConfigurationError) as info:
        make_wsgi(auth__url="", auth__trust_host="true")

    message = str(info.value)
    assert "app.registration mails" in message
    assert "email provider" not in message


def test_development_refuses_a_forged_host_and_mails_nothing(
    make_app, smtp_server, dbsession
):
    # (A forged Host itself is refused at the door: tests/functional/test_dev_guard.py.)
    app = make_app(**EMAIL, app__env="development", auth__url="")

    response = request_link(app, headers={"X-Forwarded-Host": "evil.example"})

    assert response.status_int == 400
    assert "host not allowed for links" in response.text
    assert smtp_server.messages == []
    assert tokens(dbsession) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "localhost:9999"},
        {"Host": "localhost:6543", "X-Forwarded-Host": "localhost:9999"},
    ],
    ids=["host", "x-forwarded-host"],
)
def test_development_refuses_a_port_the_server_does_not_listen_on(
    make_app, smtp_server, dbsession, headers
):
    """Another user of a shared machine could listen on the forged port and
    collect the victim's link."""
    app = make_app(**EMAIL, app__env="development", auth__url="")

    response = request_link(app, headers=headers, extra_environ={"SERVER_PORT": "6543"})

    assert response.status_int == 400
    assert "host not allowed for links" in response.text
    assert smtp_server.messages == []
    assert tokens(dbsession) == 0


@pytest.mark.parametrize(
    "host, origin",
    [
        ("localhost:6543", "http://localhost:6543"),
        ("127.0.0.1:6543", "http://127.0.0.1:6543"),
        ("[::1]:6543", "http://[::1]:6543"),
    ],
)
def test_development_links_follow_an_allowed_host(make_app, smtp_server, host, origin):
    app = make_app(**EMAIL, app__env="development", auth__url="")

    response = request_link(
        app, headers={"Host": host}, extra_environ={"SERVER_PORT": "6543"}
    )

    assert (
        response.location
        == f"{origin}/api/auth/verify-request?provider=email&type=email"
        "&email=victim%40example.com"
    )
    [message] = smtp_server.wait_for(1)
    assert link_of(message).startswith(f"{origin}/api/auth/callback/email?")


def test_dev_hosts_setting_replaces_the_allowed_hosts(make_app, smtp_server):
    app = make_app(
        **EMAIL,
        app__env="development",
        auth__url="",
        auth__dev_hosts="dev.test",
    )

    refused = app.get("/api/auth/csrf", headers={"Host": "localhost"}, status=400)
    allowed = request_link(
        app, headers={"Host": "dev.test:8080"}, extra_environ={"SERVER_PORT": "8080"}
    )

    assert refused.status_int == 400
    assert allowed.status_int == 302
    [message] = smtp_server.wait_for(1)
    assert link_of(message).startswith("http://dev.test:8080/api/auth/callback/email?")


def test_development_with_auth_url_uses_it(make_app, smtp_server):
    app = make_app(**EMAIL, app__env="development", auth__url="http://site.test")

    request_link(app, headers={"X-Forwarded-Host": "evil.example"})

    [message] = smtp_server.wait_for(1)
    assert link_of(message).startswith("http://site.test/api/auth/callback/email?")

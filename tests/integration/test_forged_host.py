"""Forged Host headers, replayed over HTTP against a live server.

The attacker asks the site to mail a victim a magic link, a password reset
or a signup confirmation while sending ``Host: evil.example`` and
``X-Forwarded-Host: evil.example`` (the site trusts proxy headers, as behind
a proxy). Every mailed link must still name ``auth.url``: a link to the
attacker's host would hand over a live token.
"""

# ruff: noqa: F811 - pytest fixtures imported from support modules

from __future__ import annotations

import re

import pytest
import requests

from tests.functional.registration.helpers import GOOD_PASSWORD, unique_email
from tests.integration.oauth_support import live_app  # noqa: F401 - fixture
from tests.mail_support import mail_queue  # noqa: F401 - fixture

pytestmark = pytest.mark.live

PUBLIC = "http://site.example.test"
FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def links_in(message) -> list[str]:
    body = message.get_body(("plain",)).get_content()
    return re.findall(r"https?://[^\s\"'<>]+", body)


def form_token(client: requests.Session, url: str) -> str:
    return _CSRF.search(client.get(url, headers=FORGED, timeout=30).text)[1]


@pytest.fixture
def site(live_app, mail_queue, smtp_server):
    return live_app(auth__providers="email", auth__url=PUBLIC)


def test_a_magic_link_requested_with_a_forged_host_names_the_site(
    site, mail_queue, smtp_server
):
    client = requests.Session()
    token = client.get(f"{site.url}/api/auth/csrf", headers=FORGED, timeout=30).json()[
        "csrfToken"
    ]

    sent = client.post(
        f"{site.url}/api/auth/signin/email",
        data={"csrfToken": token, "email": unique_email("victim")},
        headers=FORGED,
        allow_redirects=False,
        timeout=30,
    )

    assert sent.status_code == 302
    assert sent.headers["Location"].startswith(PUBLIC + "/")
    mail_queue.deliver(site)
    (message,) = smtp_server.wait_for(1)
    assert links_in(message)
    assert all(link.startswith(PUBLIC + "/") for link in links_in(message))
    assert "evil.example" not in message.as_string()


@pytest.mark.parametrize("mode", ["optional", "mandatory"])
def test_signup_and_reset_mail_requested_with_a_forged_host_name_the_site(
    live_app, mail_queue, smtp_server, mode
):
    site = live_app(registration__email_verification=mode, auth__url=PUBLIC)
    victim = unique_email("victim")
    client = requests.Session()
    client.post(
        f"{site.url}/signup",
        data={
            "csrf_token": form_token(client, f"{site.url}/signup"),
            "email": victim,
            "password": GOOD_PASSWORD,
            "password_confirm": GOOD_PASSWORD,
        },
        headers=FORGED,
        allow_redirects=False,
        timeout=60,
    ).raise_for_status()
    attacker = requests.Session()
    attacker.post(
        f"{site.url}/account/reset",
        data={
            "csrf_token": form_token(attacker, f"{site.url}/account/reset"),
            "email": victim,
        },
        headers=FORGED,
        allow_redirects=False,
        timeout=60,
    ).raise_for_status()

    assert mail_queue.deliver(site) == 0
    confirmation, reset = sorted(
        smtp_server.wait_for(2), key=lambda m: "reset" in str(m["Subject"]).lower()
    )
    for message in (confirmation, reset):
        assert message["To"] == victim
        assert links_in(message), message["Subject"]
        assert all(link.startswith(PUBLIC + "/") for link in links_in(message))
        assert "evil.example" not in message.as_string()

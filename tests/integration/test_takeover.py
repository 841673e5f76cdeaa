"""Pre-registration takeover, replayed end to end over HTTP (both verification modes).

1. The attacker signs up with the victim's address and a password of their
   own (``optional``: signed in at once; ``mandatory``: waiting for a
   confirmation that never comes).
2. The victim signs in with a magic link read from the mail.
3. The attacker's password no longer signs in, the attacker's earlier
   session cookie reads as signed out, and the victim was told by mail.

A live server with the email provider, the mail queue and a real SMTP sink.
This needs both halves: the core's (claim the account when the magic link
proves its address, firing ``UnverifiedAccountClaimed``) and registration's
(drop the signup password, end JWT sessions, mail the owner).
"""

# ruff: noqa: F811 - pytest fixtures imported from support modules

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests

from tests.functional.registration.helpers import unique_email
from tests.integration.oauth_support import Browser, live_app  # noqa: F401 - fixture
from tests.mail_support import mail_queue  # noqa: F401 - fixture

pytestmark = pytest.mark.live

ATTACKER_PASSWORD = "attacker chose this one 7"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_up(base: str, email: str, password: str) -> requests.Session:
    client = requests.Session()
    page = client.get(f"{base}/signup", timeout=30)
    client.post(
        f"{base}/signup",
        data={
            "csrf_token": _CSRF.search(page.text)[1],
            "email": email,
            "password": password,
            "password_confirm": password,
        },
        allow_redirects=False,
        timeout=60,
    ).raise_for_status()
    return client


def password_sign_in(base: str, email: str, password: str) -> str:
    browser = Browser(base)
    answer = browser.http.post(
        f"{browser.auth}/callback/credentials",
        data={"csrfToken": browser.csrf_token(), "email": email, "password": password},
        allow_redirects=False,
        timeout=60,
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def link_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+", body)[0]


def path_of(url: str) -> str:
    """Path and query: mailed links and redirects name ``auth.url``, which may
    be another name for the test's server."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.mark.parametrize("mode", ["optional", "mandatory"])
def test_a_magic_link_takes_the_address_back_from_an_unverified_signup(
    live_app, mail_queue, smtp_server, mode
):
    app = live_app(auth__providers="email", registration__email_verification=mode)

    # 1. the attacker signs up with the victim's address
    victim = unique_email("victim")
    attacker = sign_up(app.url, victim, ATTACKER_PASSWORD)
    earlier_cookies = attacker.cookies.copy()
    if mode == "optional":
        assert attacker.get(f"{app.url}/api/auth/session", timeout=30).json()
    mail_queue.deliver(app)
    smtp_server.wait_for(1)  # the confirmation link goes to the victim, unused
    smtp_server.clear()

    # 2. the victim signs in with a magic link from the mail
    browser = Browser(app.url)
    sent = browser.post_signin("email", data={"email": victim})
    assert path_of(sent.headers["Location"]).startswith("/api/auth/verify-request")
    assert mail_queue.deliver(app) == 0
    (magic,) = smtp_server.wait_for(1)
    smtp_server.clear()
    signed_in = browser.get(app.url + path_of(link_in(magic)))
    assert signed_in.status_code == 302, signed_in.headers.get("Location")
    assert browser.session()["user"]["email"] == victim

    # 3. the attacker is out, and the owner knows
    refused = password_sign_in(app.url, victim, ATTACKER_PASSWORD)
    assert "error=CredentialsSignin" in refused
    assert refused.endswith("code=credentials")
    replayed = requests.get(
        f"{app.url}/api/auth/session", cookies=earlier_cookies, timeout=30
    )
    assert replayed.json() is None
    assert mail_queue.deliver(app) == 0
    (notice,) = smtp_server.wait_for(1)
    assert notice["To"] == victim
    assert notice["Subject"].startswith("An unconfirmed sign-up on your email address")
    assert browser.session()["user"]["email"] == victim  # the owner stays signed in

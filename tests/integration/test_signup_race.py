"""Concurrent signups for one email against a real server: one account, no 5xx.

Twenty browsers submit the signup form for the same address at once against
waitress on 127.0.0.1 (SQLite file and PostgreSQL, through the parametrized
database fixtures). Each signup inserts first; the core's unique index on
lower(email) lets one insert win, the others wait for it and fail with
IntegrityError, and they answer "taken" (or, in mandatory mode, "check your
email"). When signups looked the address up before inserting, SQLite
refused the losers' inserts at once and some exhausted pyramid_retry's
three attempts (a 500, later a 503): several runs in ten. Mail is queued,
as in production.
"""

# ruff: noqa: F811 - pytest fixtures imported from mail_support

from __future__ import annotations

import re
import threading
from urllib.parse import quote

import pytest
import requests

from tests.functional.registration.helpers import GOOD_PASSWORD, rows
from tests.mail_support import mail_queue  # noqa: F401 - fixture

pytestmark = pytest.mark.live

BROWSERS = 20
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _browser(base_url: str) -> tuple[requests.Session, str]:
    client = requests.Session()
    page = client.get(f"{base_url}/signup", timeout=30)
    page.raise_for_status()
    return client, _CSRF.search(page.text).group(1)


@pytest.mark.parametrize("mode", ["optional", "mandatory"])
def test_concurrent_signups_for_one_email_create_one_account(
    smtp_server, mail_queue, live_server, make_app, dbengine, mode
):
    server = live_server(registration__email_verification=mode)
    email = "Race.Winner@example.com"
    browsers = [_browser(server.url) for _ in range(BROWSERS)]
    start = threading.Barrier(BROWSERS)
    answers: list[requests.Response | BaseException] = [None] * BROWSERS  # type: ignore[list-item]

    def submit(i: int) -> None:
        client, token = browsers[i]
        # Vary the case: the index is on lower(email).
        address = email.upper() if i % 2 else email
        start.wait(timeout=30)
        try:
            answers[i] = client.post(
                f"{server.url}/signup",
                data={
                    "csrf_token": token,
                    "email": address,
                    "name": f"Racer {i}",
                    "password": GOOD_PASSWORD,
                    "password_confirm": GOOD_PASSWORD,
                },
                allow_redirects=False,
                timeout=120,
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            answers[i] = exc

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(BROWSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)

    failures = [a for a in answers if not isinstance(a, requests.Response)]
    assert failures == []
    statuses = sorted(a.status_code for a in answers)
    assert all(status < 500 for status in statuses), statuses
    accounts = rows(
        dbengine, "SELECT id FROM users WHERE lower(email) = lower(:e)", e=email
    )
    assert len(accounts) == 1
    assert len(rows(dbengine, "SELECT user_id FROM registration_passwords")) == 1
    if mode == "optional":
        # one browser signed in; the others were told the address is taken
        assert statuses == [302] + [400] * (BROWSERS - 1)
        taken = [a for a in answers if a.status_code == 400]
        assert all("already exists" in a.text for a in taken)
    else:
        # everyone gets the same "check your email" answer
        assert statuses == [303] * BROWSERS
        # each names the address its browser typed, in whatever case
        assert {a.headers["Location"].lower() for a in answers} == {
            f"{server.url}/signup/check-email?email={quote(email)}".lower()
        }
    # one verification mail, plus one owner notice per loser in mandatory mode
    expected_mail = 1 if mode == "optional" else BROWSERS
    assert mail_queue.deliver(make_app(registration__email_verification=mode)) == 0
    assert len(smtp_server.wait_for(expected_mail, timeout=30)) == expected_mail

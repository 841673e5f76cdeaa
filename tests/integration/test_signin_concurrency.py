"""Parallel guesses at one account cannot get more password checks than the limit.

24 wrong passwords for one account arrive at once at a live server (8
threads) with ``ratelimit.signin_account = 5/minute``. Each attempt is
counted before its password is checked, in one atomic step, so at most 5
are checked (answered ``code=credentials``) and the rest are refused
without hashing (``code=rate_limited``). When the limit was tested before
hashing and counted after a failure, 24 parallel guesses got 11 checks.
"""

from __future__ import annotations

import threading

import pytest
import requests

from tests.functional.registration.helpers import GOOD_PASSWORD, signup, unique_email

pytestmark = pytest.mark.live

GUESSES = 24
LIMITS = {
    "ratelimit__enabled": "true",
    "ratelimit__signin_account": "5/minute",
    "ratelimit__signin_ip": "1000/minute",
}


def test_parallel_wrong_passwords_get_at_most_the_limit_of_checks(
    live_server, make_app, smtp_server
):
    server = live_server(**LIMITS)
    email = unique_email()
    signup(make_app(), email, status=302)
    clients = []
    for _ in range(GUESSES):
        client = requests.Session()
        token = client.get(f"{server.url}/api/auth/csrf", timeout=30).json()
        clients.append((client, token["csrfToken"]))
    start = threading.Barrier(GUESSES)
    codes: list[str | BaseException] = [""] * GUESSES

    def guess(i: int) -> None:
        client, token = clients[i]
        start.wait(timeout=30)
        try:
            answer = client.post(
                f"{server.url}/api/auth/callback/credentials",
                data={"csrfToken": token, "email": email, "password": f"guess {i}"},
                allow_redirects=False,
                timeout=120,
            )
            codes[i] = answer.headers["Location"].rpartition("code=")[2]
        except BaseException as exc:  # noqa: BLE001 - reported below
            codes[i] = exc

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)

    assert sorted(codes) == ["credentials"] * 5 + ["rate_limited"] * (GUESSES - 5)
    # and the owner's right password waits too: the window is full
    client, token = clients[0]
    owner = client.post(
        f"{server.url}/api/auth/callback/credentials",
        data={"csrfToken": token, "email": email, "password": GOOD_PASSWORD},
        allow_redirects=False,
        timeout=60,
    )
    assert owner.headers["Location"].endswith("code=rate_limited")

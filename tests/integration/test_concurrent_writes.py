"""Concurrent writers on one database: every sign-in succeeds, none gets a 503.

With ``auth.session.strategy = database`` each sign-in reads (the account,
the password) and then inserts a session row. On SQLite a transaction that
reads first and writes later cannot wait for another writer: the upgrade
fails at once with "database is locked", and quick retries fail the same
way (a benchmark saw 94 of 600 concurrent sign-ins answered 503). Requests
that may write therefore take SQLite's write lock when they begin, waiting
for it like any other lock. PostgreSQL runs the same test as a control.
"""

from __future__ import annotations

import threading

import pytest
import requests

from tests.functional.registration.helpers import GOOD_PASSWORD, signup, unique_email

pytestmark = pytest.mark.live

CLIENTS = 12


def test_concurrent_database_session_sign_ins_all_succeed(
    live_server, make_app, smtp_server
):
    server = live_server(auth__session__strategy="database")
    email = unique_email()
    signup(make_app(auth__session__strategy="database"), email, status=302)
    clients = []
    for _ in range(CLIENTS):
        client = requests.Session()
        token = client.get(f"{server.url}/api/auth/csrf", timeout=30).json()
        clients.append((client, token["csrfToken"]))
    start = threading.Barrier(CLIENTS)
    answers: list[object] = [None] * CLIENTS

    def sign_in(i: int) -> None:
        client, token = clients[i]
        start.wait(timeout=30)
        try:
            answer = client.post(
                f"{server.url}/api/auth/callback/credentials",
                data={"csrfToken": token, "email": email, "password": GOOD_PASSWORD},
                allow_redirects=False,
                timeout=120,
            )
            answers[i] = (answer.status_code, answer.headers.get("Location", ""))
        except BaseException as exc:  # noqa: BLE001 - reported below
            answers[i] = exc

    threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)

    assert all(
        isinstance(a, tuple) and a[0] == 302 and "error" not in a[1] for a in answers
    ), answers
    for client, _ in clients:
        session = client.get(f"{server.url}/api/auth/session", timeout=30).json()
        assert session["user"]["email"] == email

"""Registration's ``jwt`` callback: a JWT session ends when its user is gone.

The cookie of a deleted user must read as signed out (before, only a password
change ended it, and a reused id could even make it someone else's session).
A user an application keeps outside the database has no row to check, and
its sessions go on.
"""

from __future__ import annotations

import sqlalchemy as sa
from webtest import TestApp

from tests.functional.registration.helpers import (
    session,
    signup,
    unique_email,
    user_row,
)
from tests.functional.support import CREDENTIALS, PASSWORD


def test_the_session_of_a_deleted_user_reads_as_signed_out(
    smtp_server, make_wsgi, dbengine
):
    # TTL 0: every read checks the row (by default, each process within 10 s)
    wsgi = make_wsgi(registration__session_check_ttl="0")
    browser = TestApp(wsgi)
    email = unique_email()
    signup(browser, email, status=302)
    assert session(browser)["user"]["email"] == email
    cookies = dict(browser.cookies)

    with dbengine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM users WHERE id = :id"),
            {"id": user_row(dbengine, email).id},
        )

    replayed = TestApp(wsgi)
    for name, value in cookies.items():
        replayed.set_cookie(name, value)
    assert session(replayed) is None
    assert session(browser) is None


def test_a_session_of_a_user_outside_the_database_goes_on(make_app):
    browser = make_app(**CREDENTIALS, registration__session_check_ttl="0")
    token = browser.get("/api/auth/csrf").json["csrfToken"]
    browser.post(
        "/api/auth/callback/password",
        {"csrfToken": token, "username": "alice", "password": PASSWORD},
        status=302,
    )

    assert session(browser)["user"]["email"] == "alice@example.com"
    assert session(browser)["user"]["email"] == "alice@example.com"

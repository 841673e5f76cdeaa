"""Registration's sessions through the core's registry: a deleted user is signed out.

The cookie of a deleted user must read as signed out (a reused id could even
make it someone else's session): the user's registry records go with the
row (ON DELETE CASCADE), so the next registry look-up of its JWT finds
nothing. A user an application keeps outside the database has a record of
its own (no row to cascade from), and its sessions go on.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from webtest import TestApp

from app.auth.interfaces import IAuthCore
from tests.functional.registration.helpers import (
    rows,
    session,
    signup,
    unique_email,
    user_row,
)
from tests.functional.support import CREDENTIALS, PASSWORD


def test_the_session_of_a_deleted_user_reads_as_signed_out(
    smtp_server, make_wsgi, dbengine
):
    wsgi = make_wsgi()
    browser = TestApp(wsgi)
    email = unique_email()
    signup(browser, email, status=302)
    assert session(browser)["user"]["email"] == email
    cookies = dict(browser.cookies)
    user_id = user_row(dbengine, email).id
    assert rows(
        dbengine, "SELECT id FROM session_registry WHERE user_id = :u", u=user_id
    )

    with dbengine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": user_id})

    assert not rows(
        dbengine, "SELECT id FROM session_registry WHERE user_id = :u", u=user_id
    )
    # This process checked the session a moment ago: it trusts it for the
    # check interval (10 s), then looks again and finds nothing.
    checks = wsgi.registry.getUtility(IAuthCore).session_checks
    checks.clock = lambda: time.monotonic() + 11
    replayed = TestApp(wsgi)
    for name, value in cookies.items():
        replayed.set_cookie(name, value)
    assert session(replayed) is None
    assert session(browser) is None


def test_a_session_of_a_user_outside_the_database_goes_on(make_app, dbengine):
    browser = make_app(**CREDENTIALS, auth__session__check_interval="0.000001")
    token = browser.get("/api/auth/csrf").json["csrfToken"]
    browser.post(
        "/api/auth/callback/password",
        {"csrfToken": token, "username": "bob", "password": PASSWORD},
        status=302,
    )

    assert session(browser)["user"]["email"] == "bob@example.com"
    assert session(browser)["user"]["email"] == "bob@example.com"
    records = rows(
        dbengine,
        "SELECT subject, user_id FROM session_registry WHERE subject = '2'",
    )
    assert records and all(r.subject == "2" for r in records)

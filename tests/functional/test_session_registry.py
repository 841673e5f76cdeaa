"""The session registry: every sign-in is a record; ending the record ends the session.

Both strategies, both databases. A JWT carries its record's id (``sid``);
reading it looks the record up at most once per
``auth.session.check_interval`` seconds per process (the memo on the core),
never with the interval at 0. The account page (``/account/sessions``,
registration's) lists the records and ends them; another browser's session
ends on its next request. The attacker's tries: a replayed cookie after
sign-out, ending someone else's session, forged ids, a token without the
claim.
"""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from webtest import TestApp

from app.auth.interfaces import IAuthCore
from app.auth.jwt import JWTCodec
from tests.conftest import TEST_SECRET
from tests.functional.support import DB_CREDENTIALS, PASSWORD, csrf_token

SESSION = "authjs.session-token"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture(params=["jwt", "database"])
def strategy(request) -> str:
    return request.param


def app_settings_for(strategy: str, **extra: str) -> dict:
    """Real user rows (``<username>@example.com``) signed in with a password."""
    return {**DB_CREDENTIALS, "auth__session__strategy": strategy, **extra}


def browser(wsgi, user_agent: str = FIREFOX, address: str = "203.0.113.7") -> TestApp:
    return TestApp(
        wsgi, extra_environ={"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": address}
    )


def sign_in(app: TestApp, username: str) -> None:
    token = csrf_token(app)
    app.post(
        "/api/auth/callback/password",
        {"csrfToken": token, "username": username, "password": PASSWORD},
        status=302,
    )


def who(app: TestApp) -> str | None:
    body = app.get("/api/auth/session").json
    return body["user"]["email"] if body else None


def records(engine: sa.Engine, email: str) -> list:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT r.* FROM session_registry r JOIN users u "
                    "ON u.id = r.user_id WHERE u.email = :e ORDER BY r.created"
                ),
                {"e": email},
            )
        )


def later(wsgi, seconds: float = 11) -> None:
    """Move this process's registry memo ``seconds`` on (past the interval)."""
    checks = wsgi.registry.getUtility(IAuthCore).session_checks
    checks.clock = lambda: time.monotonic() + seconds


def replay(wsgi, cookies: dict) -> TestApp:
    app = browser(wsgi)
    for name, value in cookies.items():
        app.set_cookie(name, value)
    return app


# sign-in writes a record ----------------------------------------------------------------
def test_sign_in_creates_a_record_with_client_and_address(
    make_wsgi, dbengine, strategy
):
    wsgi = make_wsgi(**app_settings_for(strategy))
    app = browser(wsgi, CHROME_MAC, "198.51.100.4")

    sign_in(app, "rec")

    (record,) = records(dbengine, "rec@example.com")
    assert record.client == "Chrome on macOS"
    assert record.address == "198.51.100.4"
    assert record.strategy == strategy
    assert len(record.id) >= 43  # 256 random bits, URL-safe base64
    assert record.created is not None and record.last_seen is not None
    assert (record.session_id is not None) == (strategy == "database")
    assert who(app) == "rec@example.com"


def test_each_sign_in_is_its_own_record_and_signing_in_again_replaces_this_browsers(
    make_wsgi, dbengine, strategy
):
    wsgi = make_wsgi(**app_settings_for(strategy))
    laptop, phone = browser(wsgi), browser(wsgi, CHROME_MAC)
    sign_in(laptop, "two")
    sign_in(phone, "two")
    assert len(records(dbengine, "two@example.com")) == 2

    sign_in(laptop, "two")  # the same browser again: its old session ends

    assert len(records(dbengine, "two@example.com")) == 2


# sign-out revokes; a replayed cookie is signed out ------------------------------------
def test_a_cookie_replayed_after_sign_out_is_signed_out_at_once_in_this_process(
    make_wsgi, dbengine, strategy
):
    wsgi = make_wsgi(**app_settings_for(strategy))  # default interval: 10 s
    app = browser(wsgi)
    sign_in(app, "out")
    assert who(app) == "out@example.com"  # checked: trusted for 10 s
    copied = dict(app.cookies)

    app.post("/api/auth/signout", {"csrfToken": csrf_token(app)}, status=302)

    assert records(dbengine, "out@example.com") == []
    assert who(replay(wsgi, copied)) is None


def test_a_jwt_replayed_after_sign_out_elsewhere_ends_within_the_interval(make_wsgi):
    here, there = (
        make_wsgi(**app_settings_for("jwt")),
        make_wsgi(**app_settings_for("jwt")),
    )
    app = browser(here)
    sign_in(app, "far")
    copied = dict(app.cookies)
    assert who(replay(there, copied)) == "far@example.com"  # there: checked now

    app.post("/api/auth/signout", {"csrfToken": csrf_token(app)}, status=302)

    assert who(replay(there, copied)) == "far@example.com"  # the interval's bargain
    later(there)
    assert who(replay(there, copied)) is None


def test_stateless_mode_signs_out_in_this_process_only(make_wsgi, dbengine):
    settings = app_settings_for("jwt", auth__session__check_interval="0")
    here, there = make_wsgi(**settings), make_wsgi(**settings)
    app = browser(here)
    sign_in(app, "nocheck")
    copied = dict(app.cookies)

    app.post("/api/auth/signout", {"csrfToken": csrf_token(app)}, status=302)

    assert records(dbengine, "nocheck@example.com") == []
    assert who(replay(here, copied)) is None  # this process ended it
    # Another process never looks: the copied cookie lives until it expires.
    assert who(replay(there, copied)) == "nocheck@example.com"


# the statements a read costs --------------------------------------------------------------
class Statements:
    def __init__(self, engine: sa.Engine) -> None:
        self.seen: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", self.record)

    def record(self, conn, cursor, statement, *args) -> None:
        self.seen.append(statement)

    def during(self, action) -> list[str]:
        start = len(self.seen)
        action()
        return self.seen[start:]


def test_check_interval_0_reads_a_jwt_without_any_query(make_wsgi):
    wsgi = make_wsgi(**app_settings_for("jwt", auth__session__check_interval="0"))
    app = browser(wsgi)
    sign_in(app, "zero")
    statements = Statements(wsgi.registry["db_engine"])

    for _ in range(3):
        assert statements.during(lambda: who(app)) == []


def test_the_default_interval_looks_up_once_then_trusts_the_memo(make_wsgi):
    wsgi = make_wsgi(**app_settings_for("jwt"))
    app = browser(wsgi)
    sign_in(app, "memo")
    later(wsgi)  # the sign-in's own check is past
    statements = Statements(wsgi.registry["db_engine"])

    first = statements.during(lambda: who(app))
    second = statements.during(lambda: who(app))

    assert [s for s in first if "session_registry" in s]
    assert second == []


@pytest.mark.no_database
def test_the_memo_is_bounded(make_wsgi):
    wsgi = make_wsgi(**app_settings_for("jwt"))
    checks = wsgi.registry.getUtility(IAuthCore).session_checks
    checks.max_entries = 3
    for n in range(5):
        checks.ended(f"sid-{n}")

    assert len(checks) == 3
    assert checks.state("sid-0") is None and checks.state("sid-4") is False


# a token without its claim, or with another one ------------------------------------------
def mint(claims: dict) -> str:
    return JWTCodec([TEST_SECRET]).encode(claims, salt=SESSION, max_age=3600)


def test_a_jwt_without_the_session_claim_is_signed_out_when_the_registry_checks(
    make_wsgi,
):
    wsgi = make_wsgi(**app_settings_for("jwt"))
    app = browser(wsgi)
    sign_in(app, "claims")
    claims = JWTCodec([TEST_SECRET]).decode(app.cookies[SESSION], salt=SESSION)
    assert claims["sid"]
    stripped = {
        k: v for k, v in claims.items() if k not in ("sid", "exp", "iat", "jti")
    }
    forged = {**stripped, "sid": "A" * 43}

    # Only the secret's holder can make these (JWE: a changed byte is refused).
    assert who(replay(wsgi, {SESSION: mint(stripped)})) is None
    assert who(replay(wsgi, {SESSION: mint(forged)})) is None
    value = app.cookies[SESSION]
    tampered = value[:-6] + ("AAAAAA" if not value.endswith("AAAAAA") else "BBBBBB")
    assert who(replay(wsgi, {SESSION: tampered})) is None
    assert who(app) == "claims@example.com"


# the account page ------------------------------------------------------------------------
def sessions_page(app: TestApp):
    return app.get("/account/sessions", status=200)


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_the_page_lists_sessions_and_marks_this_device(make_wsgi, strategy):
    wsgi = make_wsgi(**app_settings_for(strategy))
    laptop, phone = browser(wsgi), browser(wsgi, CHROME_MAC, "198.51.100.9")
    sign_in(laptop, "page")
    sign_in(phone, "page")

    page = sessions_page(laptop)

    cards = page.html.select("section.session")
    assert len(cards) == 2
    texts = [c.get_text(" ", strip=True) for c in cards]
    mine = [t for t in texts if "(this device)" in t]
    assert len(mine) == 1 and "Firefox on Linux" in mine[0]
    assert any("Chrome on macOS" in t and "198.51.100.9" in t for t in texts)
    assert page.headers["Cache-Control"] == "private, no-store"
    # one "end" form, for the other device only, and "end all others"
    assert len(page.forms) == 2


def test_ending_another_session_signs_that_browser_out_on_its_next_request(
    make_wsgi, dbengine, strategy
):
    wsgi = make_wsgi(**app_settings_for(strategy))
    a, b = browser(wsgi), browser(wsgi, CHROME_MAC)
    sign_in(a, "ender")
    sign_in(b, "ender")
    assert who(a) == "ender@example.com"  # A's session checked: memo says alive

    page = sessions_page(b)
    done = page.forms[0].submit(status=303).follow()

    assert "That session was signed out." in done.text
    assert who(a) is None
    assert a.get("/account/sessions", status=302).location.startswith(
        "http://localhost/api/auth/signin"
    )
    assert who(b) == "ender@example.com"
    assert len(records(dbengine, "ender@example.com")) == 1


def test_ending_every_other_session_keeps_this_one(make_wsgi, dbengine, strategy):
    wsgi = make_wsgi(**app_settings_for(strategy))
    apps = [browser(wsgi, address=f"192.0.2.{n}") for n in range(3)]
    for app in apps:
        sign_in(app, "many")

    page = sessions_page(apps[0])
    page.forms[len(page.forms) - 1].submit(status=303)

    assert who(apps[0]) == "many@example.com"
    assert who(apps[1]) is None and who(apps[2]) is None
    (kept,) = records(dbengine, "many@example.com")
    assert kept.address == "192.0.2.0"


@pytest.mark.no_database
def test_signed_out_the_page_asks_to_sign_in(make_app):
    app = make_app(**app_settings_for("jwt"))

    answer = app.get("/account/sessions", status=302)

    assert "error=SessionRequired" in answer.location
    assert "callbackUrl=http%3A%2F%2Flocalhost%2Faccount%2Fsessions" in answer.location
    app.post("/account/sessions/end", {"session": "x"}, status=403)


# the attacker's tries -----------------------------------------------------------------------
def test_ending_someone_elses_session_does_nothing(make_wsgi, dbengine, strategy):
    wsgi = make_wsgi(**app_settings_for(strategy))
    victim, attacker = browser(wsgi), browser(wsgi, CHROME_MAC)
    sign_in(victim, "victim")
    sign_in(attacker, "attacker")
    sign_in(browser(wsgi), "attacker")  # a second device: the page has forms
    (theirs,) = records(dbengine, "victim@example.com")

    token = csrf_of(sessions_page(attacker))
    answer = attacker.post(
        "/account/sessions/end",
        {"csrf_token": token, "session": theirs.id},
        status=404,
    )

    assert "not one of your sessions" in answer.text
    assert records(dbengine, "victim@example.com") != []
    assert who(victim) == "victim@example.com"


@pytest.mark.parametrize(
    "forged",
    ["", "x", "A" * 43, "A" * 65, "A" * 5000, "'; DROP TABLE users; --", "é\u202e"],
)
def test_forged_session_ids_end_nothing(make_wsgi, dbengine, forged):
    wsgi = make_wsgi(**app_settings_for("jwt"))
    app = browser(wsgi)
    sign_in(app, "forger")
    sign_in(browser(wsgi), "forger")  # a second device: the page has forms
    token = csrf_of(sessions_page(app))

    answer = app.post(
        "/account/sessions/end", {"csrf_token": token, "session": forged}, status=404
    )

    assert "Session not found" in answer.text
    assert len(records(dbengine, "forger@example.com")) == 2
    assert who(app) == "forger@example.com"


def test_ending_a_session_needs_the_forms_csrf_token(make_wsgi, dbengine):
    wsgi = make_wsgi(**app_settings_for("jwt"))
    a, b = browser(wsgi), browser(wsgi)
    sign_in(a, "csrf")
    sign_in(b, "csrf")
    theirs = records(dbengine, "csrf@example.com")[0]

    # Pyramid's CSRF check refuses both ("form expired" page), no 5xx
    b.post("/account/sessions/end", {"session": theirs.id}, status=400)
    b.post("/account/sessions/end-others", {}, status=400)
    b.post(
        "/account/sessions/end",
        {"session": theirs.id, "csrf_token": "forged"},
        status=400,
    )

    assert len(records(dbengine, "csrf@example.com")) == 2

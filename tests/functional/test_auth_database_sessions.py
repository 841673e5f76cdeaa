"""The database session strategy (spec §5): an opaque token naming a session row."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from app.auth import SignedOut
from app.auth.models import Session, User
from tests.functional.support import (
    DB_CREDENTIALS,
    csrf_token,
    events,
    expires_of,
    is_deletion,
    parse_iso,
    set_cookies,
    sign_in,
)

SESSION = "authjs.session-token"
MAX_AGE = 7200
UPDATE_AGE = 600
# 32 bytes from ``secrets``, base64url: 256 bits (Auth.js: a UUIDv4, 122 bits).
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


@pytest.fixture
def app(make_app):
    return make_app(
        **DB_CREDENTIALS,
        auth__session__max_age=str(MAX_AGE),
        auth__session__update_age=str(UPDATE_AGE),
        pyramid__includes="tests.functional.support.include_events",
    )


def rows(dbsession) -> list[Session]:
    dbsession.rollback()  # end the last read: see what the app committed since
    dbsession.expire_all()  # and forget the values loaded before
    return list(dbsession.scalars(sa.select(Session)))


def set_expiry(dbsession, token: str, expires: dt.datetime) -> None:
    dbsession.execute(
        sa.update(Session).where(Session.session_token == token).values(expires=expires)
    )
    dbsession.commit()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_sign_in_creates_a_session_row_named_by_the_cookie(app, dbsession):
    before = now()

    response = sign_in(app)

    (row,) = rows(dbsession)
    header = set_cookies(response)[SESSION]
    assert header.split(";")[0] == f"{SESSION}={row.session_token}"
    assert TOKEN.fullmatch(row.session_token)
    assert row.created is not None and before <= row.created <= now()
    user = dbsession.get(User, row.user_id)
    assert user.email == "alice@example.com"
    assert expires_of(header) == row.expires.replace(microsecond=0)
    assert before + dt.timedelta(seconds=MAX_AGE - 1) <= row.expires


def test_session_reads_the_row_and_its_user(app, dbsession):
    sign_in(app)
    (row,) = rows(dbsession)

    response = app.get("/api/auth/session")

    assert response.json == {
        "user": {"name": "Alice", "email": "alice@example.com"},
        "expires": response.json["expires"],
    }
    assert parse_iso(response.json["expires"]) == row.expires.replace(
        microsecond=row.expires.microsecond // 1000 * 1000
    )


def test_every_read_resets_the_cookie_with_the_same_token_and_rolled_expires(
    app, dbsession
):
    sign_in(app)
    (row,) = rows(dbsession)
    set_expiry(dbsession, row.session_token, now() + dt.timedelta(seconds=MAX_AGE - 5))
    before = now()

    header = set_cookies(app.get("/api/auth/session"))[SESSION]

    assert header.split(";")[0] == f"{SESSION}={row.session_token}"
    assert expires_of(header) >= (before + dt.timedelta(seconds=MAX_AGE)).replace(
        microsecond=0
    )


def test_recently_refreshed_session_is_not_written(app, dbsession):
    sign_in(app)
    (row,) = rows(dbsession)
    fresh = now() + dt.timedelta(seconds=MAX_AGE - UPDATE_AGE + 60)
    set_expiry(dbsession, row.session_token, fresh)

    app.get("/api/auth/session")

    assert rows(dbsession)[0].expires == fresh


def test_session_older_than_update_age_gets_a_new_expiry(app, dbsession):
    sign_in(app)
    (row,) = rows(dbsession)
    stale = now() + dt.timedelta(seconds=MAX_AGE - UPDATE_AGE - 60)
    set_expiry(dbsession, row.session_token, stale)
    before = now()

    response = app.get("/api/auth/session")

    updated = rows(dbsession)[0].expires
    assert updated >= before + dt.timedelta(seconds=MAX_AGE - 1)
    # The answer shows the expiry as read, before this request moved it.
    assert parse_iso(response.json["expires"]) == stale.replace(
        microsecond=stale.microsecond // 1000 * 1000
    )


def test_expired_row_is_signed_out_and_deleted(app, dbsession):
    sign_in(app)
    (row,) = rows(dbsession)
    set_expiry(dbsession, row.session_token, now() - dt.timedelta(seconds=1))

    response = app.get("/api/auth/session")

    assert response.body == b"null"
    assert is_deletion(set_cookies(response)[SESSION])
    assert rows(dbsession) == []


def test_unknown_token_answers_null_and_clears_the_cookie(app, dbsession):
    response = app.get(
        "/api/auth/session",
        headers={"Cookie": f"{SESSION}=3f1a7e0e-0000-4000-8000-000000000000"},
    )

    assert response.body == b"null"
    assert is_deletion(set_cookies(response)[SESSION])


@pytest.mark.no_database
def test_overlong_token_is_no_session(app):
    response = app.get(
        "/api/auth/session", headers={"Cookie": f"{SESSION}={'a' * 300}"}
    )

    assert response.body == b"null"
    assert is_deletion(set_cookies(response)[SESSION])


def test_signout_deletes_the_row_and_clears_the_cookie(app, dbsession):
    sign_in(app)
    (row,) = rows(dbsession)
    token = row.session_token

    response = app.post("/api/auth/signout", {"csrfToken": csrf_token(app)})

    assert response.status_int == 302
    assert is_deletion(set_cookies(response)[SESSION])
    assert rows(dbsession) == []
    (event,) = events(app, SignedOut)
    assert event.session_token == token and event.token is None


def test_signing_in_again_replaces_the_browsers_session_row(app, dbsession):
    sign_in(app)
    (first,) = rows(dbsession)
    first_token = first.session_token

    sign_in(app, "bob")

    (second,) = rows(dbsession)
    assert second.session_token != first_token
    assert app.get("/api/auth/session").json["user"]["email"] == "bob@example.com"


def test_two_browsers_have_two_rows(app, make_app, dbsession):
    other = make_app(**DB_CREDENTIALS)

    sign_in(app)
    sign_in(other)

    assert len(rows(dbsession)) == 2


def test_database_session_signs_people_in_to_site_pages(app):
    sign_in(app)

    assert app.get("/members").status_int == 200
    assert "Alice" in app.get("/").text


def test_a_session_read_hands_its_connection_back_ready_for_transactions(make_app):
    """The read runs outside the request's transaction (one autocommitted
    SELECT); the pooled connection it used must come back to the engine's
    transactions unchanged, or a later request's rollback would not undo its
    writes."""
    app = make_app(
        **DB_CREDENTIALS, sqlalchemy__pool_size="1", sqlalchemy__max_overflow="0"
    )
    sign_in(app)
    assert app.get("/api/auth/session").json["user"]["email"] == "alice@example.com"
    engine = app.app.registry["db_engine"]

    with engine.connect() as connection:  # the pool's one connection
        driver = connection.connection.driver_connection
        if engine.dialect.name == "sqlite":
            assert driver.isolation_level is None  # the recipe's own mode
        else:
            assert driver.autocommit is False
        connection.execute(sa.insert(User).values(email="rolled@example.com"))
        connection.rollback()
        assert connection.scalar(sa.select(sa.func.count()).select_from(User)) == 1

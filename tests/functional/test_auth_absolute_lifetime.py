"""Absolute session lifetime (``auth.session.absolute_max_age``) and user ids never reused.

Auth.js renews a session on every read, so a copied cookie replayed now and
then lives forever. Here a session ends ``absolute_max_age`` after the
sign-in (the JWT's ``auth_time``, the row's ``created``), however often it
was renewed: renewals are capped there and a token past it reads as signed
out. Both strategies, both databases.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from app.auth.adapter import SQLAlchemyAdapter
from app.auth.jwt import JWTCodec
from app.auth.models import Session
from tests.conftest import TEST_SECRET
from tests.functional.support import (
    CREDENTIALS,
    DB_CREDENTIALS,
    cookie_header,
    cookie_value,
    expires_of,
    is_deletion,
    parse_iso,
    set_cookies,
    sign_in,
)

SESSION = "authjs.session-token"
MAX_AGE = 3600
ABSOLUTE = 7200
LIMITS = {
    "auth__session__max_age": str(MAX_AGE),
    "auth__session__absolute_max_age": str(ABSOLUTE),
    # tokens minted here have no registry session id (sid): stateless mode
    "auth__session__check_interval": "0",
}
CODEC = JWTCodec([TEST_SECRET])
ALICE = {"name": "Alice Example", "email": "alice@example.com", "sub": "1"}


def mint(claims: dict, *, now: float, max_age: int = MAX_AGE) -> str:
    return CODEC.encode(claims, salt=SESSION, max_age=max_age, now=now)


def read_session(app, token: str):
    return app.get(
        "/api/auth/session", headers={"Cookie": cookie_header({SESSION: token})}
    )


def session_cookie(response) -> str:
    return cookie_value(set_cookies(response)[SESSION])


# JWT ------------------------------------------------------------------------------
def test_sign_in_stamps_the_sign_in_time(make_app):
    app = make_app(**CREDENTIALS, **LIMITS)
    before = int(time.time())

    claims = CODEC.decode(session_cookie(sign_in(app)), salt=SESSION)

    assert before <= claims["auth_time"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == MAX_AGE


@pytest.mark.no_database
def test_replayed_token_past_the_absolute_lifetime_reads_signed_out(make_app):
    # A cookie copied at sign-in and kept alive by renewals: each renewal was
    # valid for max_age, but the sign-in is older than absolute_max_age.
    app = make_app(**CREDENTIALS, **LIMITS)
    now = time.time()
    replayed = mint({**ALICE, "auth_time": int(now) - ABSOLUTE - 1}, now=now - 60)

    response = read_session(app, replayed)

    assert response.json is None
    assert is_deletion(set_cookies(response)[SESSION])


@pytest.mark.no_database
def test_renewal_is_capped_at_the_absolute_lifetime(make_app):
    app = make_app(**CREDENTIALS, **LIMITS)
    auth_time = int(time.time()) - (ABSOLUTE - 600)  # ten minutes left
    token = mint({**ALICE, "auth_time": auth_time}, now=time.time() - 60)

    response = read_session(app, token)

    end = dt.datetime.fromtimestamp(auth_time + ABSOLUTE, dt.UTC)
    claims = CODEC.decode(session_cookie(response), salt=SESSION)
    assert claims["auth_time"] == auth_time
    assert claims["exp"] == auth_time + ABSOLUTE
    assert expires_of(set_cookies(response)[SESSION]) == end
    assert parse_iso(response.json["expires"]).replace(microsecond=0) == end


@pytest.mark.no_database
def test_renewal_far_from_the_limit_rolls_max_age(make_app):
    app = make_app(**CREDENTIALS, **LIMITS)
    now = int(time.time())
    token = mint({**ALICE, "auth_time": now - 60}, now=now - 60)

    claims = CODEC.decode(session_cookie(read_session(app, token)), salt=SESSION)

    assert claims["auth_time"] == now - 60
    assert claims["exp"] - claims["iat"] == MAX_AGE


@pytest.mark.no_database
def test_token_without_auth_time_counts_from_its_iat(make_app):
    # Tokens issued before auth_time existed (and Auth.js's own).
    app = make_app(**CREDENTIALS, **LIMITS)
    now = time.time()
    old = mint(dict(ALICE), now=now - ABSOLUTE - 1, max_age=ABSOLUTE + MAX_AGE)
    recent = mint(dict(ALICE), now=now - 100)

    assert read_session(app, old).json is None
    renewed = CODEC.decode(session_cookie(read_session(app, recent)), salt=SESSION)
    assert renewed["auth_time"] == int(now - 100)


def test_jwt_callbacks_cannot_move_the_sign_in_time(make_app):
    app = make_app(
        **CREDENTIALS,
        **LIMITS,
        pyramid__includes="tests.functional.support.include_auth_time_tamper",
    )
    signed_in = int(time.time())
    token = session_cookie(sign_in(app))

    first = CODEC.decode(token, salt=SESSION)
    renewed = CODEC.decode(session_cookie(read_session(app, token)), salt=SESSION)

    assert signed_in <= first["auth_time"] <= int(time.time())
    assert renewed["auth_time"] == first["auth_time"]


# database sessions -------------------------------------------------------------------
def _db_app(make_app, **extra):
    return make_app(**DB_CREDENTIALS, **LIMITS, **extra)


def _row(dbsession) -> Session | None:
    dbsession.rollback()
    dbsession.expire_all()
    return dbsession.scalars(sa.select(Session)).one_or_none()


def _set_row(dbsession, **values) -> None:
    dbsession.execute(sa.update(Session).values(**values))
    dbsession.commit()


def test_database_session_past_the_absolute_lifetime_is_ended(make_app, dbsession):
    app = _db_app(make_app)
    sign_in(app)
    now = dt.datetime.now(dt.UTC)
    _set_row(dbsession, created=now - dt.timedelta(seconds=ABSOLUTE + 1))

    response = app.get("/api/auth/session")

    assert response.json is None
    assert is_deletion(set_cookies(response)[SESSION])
    assert _row(dbsession) is None


def test_database_renewal_is_capped_at_the_absolute_lifetime(make_app, dbsession):
    app = _db_app(make_app, auth__session__update_age="0")
    sign_in(app)
    now = dt.datetime.now(dt.UTC)
    created = (now - dt.timedelta(seconds=ABSOLUTE - 600)).replace(microsecond=0)
    _set_row(dbsession, created=created, expires=now + dt.timedelta(seconds=60))

    response = app.get("/api/auth/session")

    end = created + dt.timedelta(seconds=ABSOLUTE)
    assert _row(dbsession).expires == end
    assert expires_of(set_cookies(response)[SESSION]) == end


def test_database_row_without_a_sign_in_time_is_not_a_session(make_app, dbsession):
    app = _db_app(make_app)
    sign_in(app)
    _set_row(dbsession, created=None)

    assert app.get("/api/auth/session").json is None
    assert _row(dbsession) is None


# user ids --------------------------------------------------------------------------------
def test_a_deleted_users_id_is_never_given_again(dbsession):
    adapter = SQLAlchemyAdapter(dbsession)
    first = adapter.create_user(email="first@example.com")
    adapter.delete_user(first.id)
    dbsession.commit()

    second = adapter.create_user(email="second@example.com")
    dbsession.commit()

    assert int(second.id) > int(first.id)


def test_an_old_cookie_of_a_deleted_user_never_names_the_next_user(make_app, dbsession):
    app = make_app(**{**DB_CREDENTIALS, "auth__session__strategy": "jwt"})
    old = CODEC.decode(session_cookie(sign_in(app, "gone")), salt=SESSION)
    SQLAlchemyAdapter(dbsession).delete_user(old["sub"])
    dbsession.commit()

    new = CODEC.decode(session_cookie(sign_in(app, "newcomer")), salt=SESSION)

    assert new["email"] == "newcomer@example.com"
    assert new["sub"] != old["sub"]


@pytest.mark.parametrize(
    "limits, message",
    [
        (
            {"auth__session__absolute_max_age": "3599"},
            "auth.session.absolute_max_age: must be at least auth.session.max_age",
        ),
        ({"auth__session__absolute_max_age": "soon"}, "expected a whole number"),
    ],
)
def test_bad_absolute_lifetime_stops_start_up(make_wsgi, limits, message):
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match=message):
        make_wsgi(auth__session__max_age="3600", **limits)

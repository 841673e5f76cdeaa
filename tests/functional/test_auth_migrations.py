"""Migrations 0003 to 0005 on live data.

0003: ``sessions.created``; 0004: user ids never reused; 0005: the session
registry (a record for each existing database session, ``session_version``
gone from registration's passwords).

Each backend gets a fresh database migrated to ``0002``, rows the way a
running site has them, then ``upgrade head`` and back: nothing is lost (on
SQLite 0004 recreates ``users``, which with foreign keys on would cascade
into every table referencing it), sessions get a sign-in time, and SQLite's
``users`` gains ``AUTOINCREMENT``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

import app.models
from tests.conftest import (
    _drop_postgres_database,
    _postgres_database,
    _worker,
    migrate_to,
)

ROWS = {
    "accounts": 1,
    "sessions": 1,
    "registration_passwords": 1,
    "verification_token": 1,
}
AT_HEAD = {**ROWS, "session_registry": 1}


@pytest.fixture
def fresh_url(db_backend, request, tmp_path, postgres_url) -> Iterator[str]:
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
    else:
        name = f"authsite_migrations_{_worker(request)}"
        yield _postgres_database(postgres_url, name)
        _drop_postgres_database(postgres_url, name)


def _arrange(engine: sa.Engine) -> tuple[int, int]:
    """Two users, the second with an account, a session, a password and a
    pending link; returns their ids."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (email) VALUES ('a@x.test')"))
        conn.execute(sa.text("INSERT INTO users (email) VALUES ('b@x.test')"))
        first, second = conn.scalars(sa.text("SELECT id FROM users ORDER BY id")).all()
        values = {"user": second, "future": "2099-01-01 00:00:00"}
        for statement in (
            'INSERT INTO accounts ("userId", type, provider, "providerAccountId") '
            "VALUES (:user, 'oidc', 'corp', 'sub-2')",
            'INSERT INTO sessions ("userId", expires, "sessionToken") '
            "VALUES (:user, :future, 'tok')",
            "INSERT INTO registration_passwords (user_id, hash, updated_at) "
            "VALUES (:user, 'h', :future)",
            "INSERT INTO verification_token (identifier, token, expires) "
            "VALUES ('b@x.test', 'hash', :future)",
        ):
            conn.execute(sa.text(statement), values)
    return first, second


def _counts(engine: sa.Engine, tables=ROWS) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            for table in tables
        }


def test_upgrade_and_downgrade_keep_every_row(fresh_url, db_backend):
    migrate_to(fresh_url, "0002_registration")
    engine = app.models.get_engine({"sqlalchemy.url": fresh_url})
    try:
        first, second = _arrange(engine)

        migrate_to(fresh_url, "head")

        assert _counts(engine, AT_HEAD) == AT_HEAD
        with engine.begin() as conn:
            assert conn.scalar(sa.text("SELECT created FROM sessions")) is not None
            record = conn.execute(sa.text("SELECT * FROM session_registry")).one()
            assert record.user_id == second and record.subject == str(second)
            assert record.strategy == "database" and len(record.id) == 43
            assert record.session_id == conn.scalar(sa.text("SELECT id FROM sessions"))
            columns = {
                c["name"]
                for c in sa.inspect(conn).get_columns("registration_passwords")
            }
            assert "session_version" not in columns
            conn.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": second})
            conn.execute(sa.text("INSERT INTO users (email) VALUES ('c@x.test')"))
            ids = conn.scalars(sa.text("SELECT id FROM users ORDER BY id")).all()
            if db_backend == "sqlite":
                ddl = conn.scalar(
                    sa.text("SELECT sql FROM sqlite_master WHERE name = 'users'")
                )
                assert "AUTOINCREMENT" in ddl
        assert ids[0] == first and ids[1] > second
        assert _counts(engine, AT_HEAD) == dict.fromkeys(AT_HEAD, 0) | {
            "verification_token": 1
        }
        # The index that makes one address one user survived the recreation.
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (email) VALUES ('A@X.test')"))

        migrate_to(fresh_url, "0004_users_autoincrement", down=True)
        with engine.connect() as conn:
            assert not sa.inspect(conn).has_table("session_registry")
            columns = {
                c["name"]
                for c in sa.inspect(conn).get_columns("registration_passwords")
            }
            assert "session_version" in columns

        migrate_to(fresh_url, "0002_registration", down=True)

        with engine.connect() as conn:
            assert conn.scalars(
                sa.text("SELECT email FROM users ORDER BY id")
            ).all() == [
                "a@x.test",
                "c@x.test",
            ]
    finally:
        engine.dispose()

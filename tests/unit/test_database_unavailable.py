"""Which database errors mean "try again in a moment" (503), from real drivers.

``app.models.database_unavailable`` decides for the site's 503 page and for
the core's error handling; a bug (bad SQL, a missing table, a constraint)
must stay a server fault.
"""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from app.models import database_unavailable, get_engine
from tests.conftest import free_port


def raised(engine: sa.Engine, sql: str) -> Exception:
    with pytest.raises(sa.exc.SQLAlchemyError) as info, engine.connect() as conn:
        conn.execute(sa.text(sql))
    return info.value


@pytest.fixture
def sqlite_path(tmp_path):
    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    return path


def test_a_refused_postgresql_connection_is_unavailable():
    engine = sa.create_engine(
        f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none",
        connect_args={"connect_timeout": 2},
    )

    assert database_unavailable(raised(engine, "SELECT 1"))


def test_a_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}")

    assert database_unavailable(raised(engine, "SELECT 1"))


def test_a_sqlite_write_lock_past_the_timeout_is_unavailable(sqlite_path):
    holder = sqlite3.connect(sqlite_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    engine = sa.create_engine(
        f"sqlite:///{sqlite_path}", connect_args={"timeout": 0.05}
    )
    try:
        error = raised(engine, "INSERT INTO t VALUES (1)")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert "database is locked" in str(error)
    assert database_unavailable(error)


def test_every_pooled_connection_busy_is_unavailable(sqlite_path):
    engine = sa.create_engine(
        f"sqlite:///{sqlite_path}",
        poolclass=sa.pool.QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.05,
    )
    with engine.connect():
        with pytest.raises(sa.exc.TimeoutError) as info:
            engine.connect()

    assert database_unavailable(info.value)


@pytest.mark.parametrize(
    "sql",
    ["SELECT * FROM no_such_table", "SELEC 1", "INSERT INTO t VALUES (1), (1)"],
    ids=["missing-table", "syntax", "constraint"],
)
def test_bugs_in_sql_are_not_unavailable(sqlite_path, sql):
    engine = sa.create_engine(f"sqlite:///{sqlite_path}")

    assert not database_unavailable(raised(engine, sql))


def test_other_errors_are_not_unavailable():
    assert not database_unavailable(ValueError("database is locked"))


@pytest.mark.parametrize(
    ("value", "expected"), [(None, False), ("false", False), ("true", True)]
)
def test_pool_pre_ping_setting_is_read_as_a_flag(value, expected):
    settings = {"sqlalchemy.url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    if value is not None:
        settings["sqlalchemy.pool_pre_ping"] = value

    engine = get_engine(settings)

    assert engine.pool._pre_ping is expected

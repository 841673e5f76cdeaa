"""Alembic environment: one history for the core's and registration's tables.

Run with the app's ini file: ``alembic -c development.ini upgrade head``.
``DATABASE_URL`` overrides ``sqlalchemy.url`` as it does for the app. Tests
pass an open connection (not in a transaction) in
``config.attributes["connection"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from alembic import context
from pyramid.paster import get_appsettings, setup_logging

import app.auth.models  # noqa: F401 - registers the core's tables
import app.models
import app.registration.models  # noqa: F401 - registers registration's tables

config = context.config
target_metadata = app.models.metadata


def _settings() -> dict:
    name = config.config_file_name
    if name is None:
        return {"sqlalchemy.url": config.get_main_option("sqlalchemy.url")}
    setup_logging(name)
    return dict(get_appsettings(name))


def run_migrations_offline() -> None:
    context.configure(
        url=app.models.database_url(_settings()),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def _sqlite_foreign_keys_off(connection) -> Iterator[None]:
    """Foreign keys off for the run, as alembic advises for SQLite batch mode.

    A batch migration recreates a table: it drops the old one, and with
    foreign keys on, SQLite's implicit ``DELETE`` would cascade into every
    table referencing it (``users`` -> accounts, sessions ...). The pragma
    is ignored inside a transaction, so it is set on the driver connection
    before alembic begins one (the caller must not have begun one either).
    """
    raw = connection.connection.driver_connection
    if raw.in_transaction:
        raise RuntimeError(
            "run SQLite migrations on a connection outside a transaction "
            "(foreign keys must be switched off first)"
        )
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
    )
    with _sqlite_foreign_keys_off(connection) if sqlite else nullcontext():
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = app.models.get_engine(_settings())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

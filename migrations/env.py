"""Alembic environment: one history for the core's and registration's tables.

Run with the app's ini file: ``alembic -c development.ini upgrade head``.
``DATABASE_URL`` overrides ``sqlalchemy.url`` as it does for the app. Tests
pass an open connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

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


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
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

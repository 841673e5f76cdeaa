"""Database wiring: engine, session factory and the request-scoped session.

``request.dbsession`` is one SQLAlchemy session per request, joined to the
request's transaction manager (pyramid_tm + zope.sqlalchemy): it commits when
the view returns normally and rolls back on any exception, so nothing is left
half-written. Services ``flush()``; they never ``commit()``.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import zope.sqlalchemy
from pyramid_retry import mark_error_retryable
from sqlalchemy import engine_from_config, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from app.models.meta import Base, UTCDateTime, metadata
from app.settings import SettingsReader

__all__ = [
    "Base",
    "UTCDateTime",
    "metadata",
    "get_engine",
    "get_session_factory",
    "get_tm_session",
    "database_url",
    "database_unavailable",
]

log = logging.getLogger(__name__)

#: Seconds a SQLite writer waits for another's lock before giving up (the
#: request is then retried, and finally answered 503). ``?timeout=N`` in the
#: URL overrides it.
SQLITE_LOCK_TIMEOUT = 30

#: Request methods that do not change state: their SQLite transactions begin
#: deferred; the others begin IMMEDIATE (the execution option ``BEGIN``;
#: ``AUTOCOMMIT`` there: no transaction, each statement its own).
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
BEGIN = "sqlite_begin"
AUTOCOMMIT = "AUTOCOMMIT"


def database_url(settings: dict) -> str:
    """The database URL: ``DATABASE_URL`` wins over ``sqlalchemy.url``."""
    url = SettingsReader(settings).text(
        "sqlalchemy.url", env="DATABASE_URL", required=True
    )
    # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    return url


def get_engine(settings: dict, prefix: str = "sqlalchemy.") -> Engine:
    options = dict(settings)
    options[prefix + "url"] = url = database_url(settings)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        connect_args = {"check_same_thread": False}
        if "timeout" not in make_url(url).query:
            connect_args["timeout"] = SQLITE_LOCK_TIMEOUT
        engine = engine_from_config(options, prefix, connect_args=connect_args)
        _sqlite_recipe(engine)
    else:
        # A real bool: SQLAlchemy would take the string "false" as true.
        # Off by default: a pooled connection the server dropped (a restart)
        # fails its first statement, SQLAlchemy then discards the pool's
        # older connections, and the request is retried on a fresh one
        # (below). Pinging before every check-out would cost each request a
        # round trip to find the same thing out.
        options[prefix + "pool_pre_ping"] = SettingsReader(settings).flag(
            prefix + "pool_pre_ping", False
        )
        engine = engine_from_config(options, prefix)
        _retry_after_disconnect(engine)
    return engine


def _retry_after_disconnect(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _on_error(context):
        # The connection was lost (the server restarted or closed it): the
        # whole request is tried again (pyramid_retry, ``retry.attempts``).
        # Lost during COMMIT, the first attempt's writes may have landed; the
        # retry then meets them as it would another request's (an email
        # already taken, a link already used), never a half-written state.
        if context.is_disconnect:
            mark_error_retryable(context.sqlalchemy_exception)


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1] if "///" in url else ""
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_recipe(engine: Engine) -> None:
    """SQLAlchemy's pysqlite recipe: real transactions, savepoints, foreign keys.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; we
    take it over so nested transactions (used by tests and by the signup race
    handling) behave as on PostgreSQL. WAL lets readers run beside a writer.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get(BEGIN, "")
        if mode == AUTOCOMMIT:
            return  # reads that need no transaction (see ``includeme``)
        # IMMEDIATE for requests that may write (see ``includeme``).
        conn.exec_driver_sql(f"BEGIN {mode}")

    @event.listens_for(engine, "handle_error")
    def _on_error(context):
        # A writer lock held past the timeout: retry the whole request.
        exc = context.sqlalchemy_exception
        if isinstance(exc, OperationalError) and _is_sqlite_lock(exc):
            mark_error_retryable(exc)


def get_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_tm_session(
    session_factory: sessionmaker[Session], transaction_manager, request=None
) -> Session:
    """A session joined to ``transaction_manager``: committed or aborted with it."""
    dbsession = session_factory(info={"request": request})
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


# sqlite3 raises OperationalError for a missing table or bad SQL too (a bug:
# 500); only these say the file cannot be used right now.
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
)


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means the database cannot be reached or used right
    now (server down, connection lost, every pooled connection busy, locked
    past the timeout): the answer is "503, try again", not a server fault."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if isinstance(exc.orig, sqlite3.Error):
        message = str(exc.orig).lower()
        return any(reason in message for reason in _SQLITE_UNAVAILABLE)
    return True


def _is_sqlite_lock(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig)


def includeme(config) -> None:
    """Wire the database into the app: ``request.dbsession`` under pyramid_tm.

    Tests (and scripts) can hand in their own session and transaction manager
    through the WSGI environ keys ``app.dbsession`` and ``tm.manager``.
    """
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    # pyramid_tm would otherwise ask the security policy for the user on every
    # request (to annotate the transaction), decoding the session cookie even
    # for pages that never look at it.
    settings.setdefault("tm.annotate_user", "false")
    settings.setdefault("retry.attempts", 3)
    config.include("pyramid_tm")
    config.include("pyramid_retry")

    # A unique-constraint race (two signups for one email) or a SQLite writer
    # lock is worth one more try: the retried request sees the winner's row and
    # answers as for a taken email, instead of a 500.
    mark_error_retryable(IntegrityError)

    engine = get_engine(settings)
    session_factory = get_session_factory(engine)
    config.registry["dbsession_factory"] = session_factory
    config.registry["db_engine"] = engine
    # Reads that need no transaction (the session lookup of app.auth's
    # adapter): the same pool, each statement its own transaction. SQLite's
    # driver already runs so (the recipe sends BEGIN itself), so there the
    # connection just does not begin; SQLAlchemy's AUTOCOMMIT level would hand
    # the connection back in pysqlite's legacy transaction mode.
    if engine.dialect.name == "sqlite":
        config.registry["db_reads"] = engine.execution_options(**{BEGIN: AUTOCOMMIT})
    else:
        config.registry["db_reads"] = engine.execution_options(
            isolation_level=AUTOCOMMIT
        )
    # SQLite: a transaction that reads, then writes cannot wait for another
    # writer (the upgrade fails at once, "database is locked", and so do quick
    # retries). Requests that may write take the write lock when they begin,
    # waiting for it up to the lock timeout; reads stay concurrent (WAL).
    writes_factory = session_factory
    if engine.dialect.name == "sqlite":
        writes_factory = get_session_factory(
            engine.execution_options(**{BEGIN: "IMMEDIATE"})
        )

    def dbsession(request) -> Session:
        session = request.environ.get("app.dbsession")
        if session is None:
            factory = session_factory if request.method in SAFE else writes_factory
            session = get_tm_session(factory, request.tm, request=request)
        return session

    config.add_request_method(dbsession, reify=True)
    log.debug("database %s", engine.url.render_as_string(hide_password=True))

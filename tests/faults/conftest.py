"""Cutting the database for real while the app runs.

``database_fault`` gives the app a database URL and two switches, ``cut()``
and ``restore()``:

- PostgreSQL: the app connects through :class:`~tests.faults.proxy.TCPProxy`;
  cutting closes the proxy (connections reset, new ones refused), as a
  restarted server or a lost network does.
- SQLite: there is no network; what makes the file unusable is another
  process holding the write lock past the app's lock timeout (shortened to
  0.2 s here through the URL's ``?timeout=``). In WAL mode readers still read
  meanwhile, so only writes are cut (``cuts_reads`` is False). A lock is
  worth another try, so the request is retried first (``retryable``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.faults.proxy import TCPProxy


class PostgresCut:
    cuts_reads = True
    retryable = False  # a refused connection is answered at once

    def __init__(self, db_url: str) -> None:
        target = sa.engine.make_url(db_url)
        self.proxy = TCPProxy(target.host or "127.0.0.1", target.port or 5432)
        self.url = target.set(host="127.0.0.1", port=self.proxy.port).render_as_string(
            hide_password=False
        )
        self.proxy.open()

    def cut(self) -> None:
        self.proxy.close()

    def restore(self) -> None:
        self.proxy.open()

    def stop(self) -> None:
        self.proxy.close()


class SQLiteLock:
    cuts_reads = False
    retryable = True  # app.models marks a lock timeout retryable

    def __init__(self, db_url: str) -> None:
        self.path = sa.engine.make_url(db_url).database
        self.url = f"{db_url}?timeout=0.2"
        self.holder: sqlite3.Connection | None = None

    def cut(self) -> None:
        # released from the server thread too (between retry attempts)
        self.holder = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False
        )
        self.holder.execute("BEGIN IMMEDIATE")  # the write lock, kept

    def restore(self) -> None:
        self.holder.execute("ROLLBACK")
        self.holder.close()
        self.holder = None

    def stop(self) -> None:
        if self.holder is not None:
            self.restore()


@pytest.fixture
def database_fault(db_backend, db_url) -> Iterator[PostgresCut | SQLiteLock]:
    fault = PostgresCut(db_url) if db_backend == "postgresql" else SQLiteLock(db_url)
    yield fault
    fault.stop()

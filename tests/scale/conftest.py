"""Fixtures of the several-processes tests: a database per backend migrated by
the deployment's own command, an SMTP sink, a Redis key prefix, and clusters
of ``pserve`` processes (see :mod:`tests.scale.cluster`)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from aiosmtpd.controller import Controller

from tests.conftest import SMTPSink, _drop_postgres_database, _postgres_database
from tests.scale.cluster import Cluster, environment, migrate, new_secret, write_ini

#: auth.session.check_interval of the clusters: how long a process may keep
#: serving a JWT session another process ended (sign-out, password reset)
CHECK_INTERVAL = 2.0


@pytest.fixture(scope="module")
def site_database(db_backend, postgres_url, tmp_path_factory) -> Iterator[str]:
    """One database for every process of the module's clusters: a fresh
    PostgreSQL database, or a SQLite file (processes of one machine may
    share it), migrated with ``alembic -c production.ini upgrade head``."""
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('site-db') / 'site.sqlite'}"
        migrate(url)
        yield url
        return
    name = f"authsite_scale_{secrets.token_hex(4)}"
    url = _postgres_database(postgres_url, name)
    try:
        migrate(url)
        yield url
    finally:
        _drop_postgres_database(postgres_url, name)


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[SMTPSink]:
    from tests.conftest import free_port

    sink = SMTPSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def redis_prefix(redis_url) -> Iterator[str]:
    prefix = f"test-scale-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def clusters(
    site_database, smtp_sink, redis_url, redis_prefix, tmp_path_factory
) -> Iterator[Callable[[str], Cluster]]:
    """``clusters(strategy)``: two processes of production.ini with that
    session strategy, sharing the database, Redis and the mail queue
    (started once per module and strategy)."""
    started: dict[str, Cluster] = {}
    secret = new_secret()
    queue = tmp_path_factory.mktemp("mail-queue")

    def factory(strategy: str) -> Cluster:
        if strategy not in started:
            directory = tmp_path_factory.mktemp(f"cluster-{strategy}")
            ini = write_ini(
                directory / "site.ini",
                smtp_port=smtp_sink.port,
                queue=queue,
                strategy=strategy,
                key_prefix=redis_prefix,
                check_interval=CHECK_INTERVAL,
            )
            env = environment(
                AUTH_SECRET=secret, DATABASE_URL=site_database, REDIS_URL=redis_url
            )
            cluster = Cluster(ini, env, directory, queue)
            started[strategy] = cluster
            cluster.start(2)
        return started[strategy]

    yield factory
    for cluster in started.values():
        cluster.stop()

"""PostgreSQL stopped and started for real while the site serves (issue 12,
item 4). ``test_database_unavailable`` cuts the network in front of the
database (a proxy); here the server itself goes away (``pg_ctl stop -m
fast``: open connections are terminated) and comes back on the same port,
as an operator's restart does:

- while it is down, pages answer 503 with ``Retry-After`` (HTML, or JSON
  under ``/api/auth`` and for JSON-only clients), never a traceback;
- requests running while it stops and starts are answered 200/302 or that
  503, never anything else;
- the same process serves again by itself once it is back, the signed-in
  session included.

The PostgreSQL server is the test's own (``throwaway_postgres``).
"""

from __future__ import annotations

import logging
import threading

import pytest

from app import main
from app.site.views import RETRY_AFTER, UNAVAILABLE
from tests.conftest import BASE_SETTINGS, LiveServer, bound_socket, migrate
from tests.shipped.support import PASSWORD, Visitor, unique_email

pytestmark = pytest.mark.live
JSON_ONLY = {"Accept": "application/json"}


@pytest.fixture
def errors(caplog):
    caplog.set_level(logging.INFO)
    return lambda: [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture(params=["database", "jwt"])
def site(request, throwaway_postgres, tmp_path):
    migrate(throwaway_postgres.url)
    sock = bound_socket()
    port = sock.getsockname()[1]
    settings = {
        **BASE_SETTINGS,
        "auth.url": f"http://127.0.0.1:{port}",
        "sqlalchemy.url": throwaway_postgres.url,
        "auth.session.strategy": request.param,
        # JWT: look the session's record up on (nearly) every read, so reads
        # need the database (0 would mean never)
        "auth.session.check_interval": "0.001",
        "mail.queue_path": str(tmp_path / "mail-queue"),  # signup mail waits there
    }
    wsgi = main({}, **settings)
    with LiveServer(wsgi, sock=sock) as server:
        yield server
    wsgi.registry["db_engine"].dispose()


def signed_in(server) -> Visitor:
    visitor = Visitor(server.url)
    email = unique_email("restart")
    assert visitor.sign_up(email).status_code == 302
    visitor.email = email
    assert visitor.session()["user"]["email"] == email
    return visitor


def assert_unavailable_page(response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    assert response.headers["Content-Type"].startswith("text/html")
    assert UNAVAILABLE in response.text
    assert "Traceback" not in response.text


def assert_unavailable_json(response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    assert response.json() == {"message": UNAVAILABLE}


def test_while_postgresql_is_stopped_pages_and_api_answer_503(
    site, throwaway_postgres, errors
):
    visitor = signed_in(site)
    action, fields = visitor.form("/api/auth/signin", "/callback/credentials")

    throwaway_postgres.stop()
    try:
        home = visitor.get("/")
        home_as_json = visitor.get("/", headers=JSON_ONLY)
        session = visitor.get("/api/auth/session")
        signin = visitor.http.post(
            action,
            data={**fields, "email": visitor.email, "password": PASSWORD},
            allow_redirects=False,
            timeout=30,
        )
        signup = Visitor(site.url).sign_up(unique_email("down"))
    finally:
        throwaway_postgres.start()

    assert_unavailable_page(home)
    assert_unavailable_json(home_as_json)
    assert_unavailable_json(session)
    assert_unavailable_json(signin)
    assert_unavailable_page(signup)
    assert errors() == []


def test_the_same_process_serves_again_after_a_restart(
    site, throwaway_postgres, errors
):
    visitor = signed_in(site)
    throwaway_postgres.stop()
    assert visitor.get("/").status_code == 503
    throwaway_postgres.start()

    # the first request after the restart is served: no stale connection kept
    home = visitor.get("/")
    session = visitor.session()
    other = Visitor(site.url)
    fresh = other.sign_in(visitor.email, PASSWORD)

    assert home.status_code == 200 and "You are signed in as" in home.text
    assert session["user"]["email"] == visitor.email
    assert fresh.status_code == 302 and "error" not in fresh.headers["Location"]
    assert other.session()["user"]["email"] == visitor.email
    assert errors() == []


def test_pooled_connections_lost_in_a_restart_cost_no_request(
    site, throwaway_postgres, errors
):
    """The pool holds connections the restart closed; nothing pings them
    before use (``pool_pre_ping`` is off): the first statement finds the loss,
    the pool is emptied and the request is tried again on a new connection."""
    visitor = signed_in(site)
    assert visitor.get("/").status_code == 200  # a pooled connection exists

    throwaway_postgres.restart()

    home = visitor.get("/")
    assert home.status_code == 200 and "You are signed in as" in home.text
    assert visitor.session()["user"]["email"] == visitor.email
    assert errors() == []


def test_requests_during_a_restart_are_served_or_503(site, throwaway_postgres, errors):
    """Four clients keep reading pages and the session while PostgreSQL
    restarts twice under them."""
    visitors = [signed_in(site) for _ in range(2)]
    answers: list[tuple[str, int, str]] = []
    stop = threading.Event()

    def browse(visitor: Visitor, path: str) -> None:
        while not stop.is_set():
            response = visitor.get(path, allow_redirects=False)
            answers.append((path, response.status_code, response.text))

    clients = [
        threading.Thread(target=browse, args=(v, path), daemon=True)
        for v in visitors
        for path in ("/", "/api/auth/session")
    ]
    for client in clients:
        client.start()
    try:
        for _ in range(2):
            throwaway_postgres.restart()
    finally:
        stop.set()
        for client in clients:
            client.join(30)

    statuses = {status for _, status, _ in answers}
    assert 200 in statuses
    assert statuses <= {200, 503}, statuses
    for path, status, text in answers:
        assert "Traceback" not in text
        if status == 200 and path == "/api/auth/session":
            assert '"user"' in text  # served means the session, never null
        if status == 503 and path.startswith("/api/"):
            assert UNAVAILABLE in text
    for visitor in visitors:
        assert visitor.session()["user"]["email"] == visitor.email
    assert errors() == []

"""The database cut while the site runs (issue 9 item 10, issue 12 item 4):
503 with ``Retry-After`` (a page, or JSON under the API and for JSON-only
clients), never a traceback; and the same process serves again once the
database is back, without a restart."""

from __future__ import annotations

import logging

import pytest

from app.site.views import RETRY_AFTER, UNAVAILABLE
from tests.conftest import BASE_SETTINGS, LiveServer
from tests.faults.retry_hook import BEFORE_RETRY, RETRIES
from tests.shipped.support import PASSWORD, Visitor, unique_email

JSON_ONLY = {"Accept": "application/json"}


@pytest.fixture
def server(live_server, database_fault):
    return live_server(
        sqlalchemy__url=database_fault.url, auth__session__strategy="database"
    )


@pytest.fixture
def errors(caplog):
    """ERROR records (a logged traceback) of the app while the test runs."""
    caplog.set_level(logging.INFO)
    return lambda: [r for r in caplog.records if r.levelno >= logging.ERROR]


def signed_in_visitor(server) -> Visitor:
    visitor = Visitor(server.url)
    response = visitor.sign_up(unique_email("fault"))
    assert response.status_code == 302, response.text
    assert visitor.session()["user"]
    return visitor


def assert_unavailable_page(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    assert response.headers["Content-Type"].startswith("text/html")
    assert UNAVAILABLE in response.text
    assert "Traceback" not in response.text


def assert_unavailable_json(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    assert response.json() == {"message": UNAVAILABLE}


def post_signup(visitor: Visitor, action: str, fields: dict, email: str):
    data = {
        **fields,
        "email": email,
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    return visitor.http.post(action, data=data, allow_redirects=False, timeout=30)


def test_signup_is_503_while_the_database_is_cut_and_works_once_it_is_back(
    server, database_fault, errors
):
    visitor = Visitor(server.url)
    action, fields = visitor.form("/signup", "/signup")

    database_fault.cut()
    refused = post_signup(visitor, action, fields, unique_email("cut"))
    database_fault.restore()
    accepted = post_signup(visitor, action, fields, unique_email("back"))

    assert_unavailable_page(refused)
    assert accepted.status_code == 302
    assert "error" not in accepted.headers["Location"]
    assert visitor.session()["user"]
    assert errors() == []


def test_signed_in_pages_while_the_database_is_cut(server, database_fault, errors):
    visitor = signed_in_visitor(server)

    database_fault.cut()
    home = visitor.get("/")
    home_as_json = visitor.get("/", headers=JSON_ONLY)
    session = visitor.get("/api/auth/session")
    database_fault.restore()

    if database_fault.cuts_reads:
        assert_unavailable_page(home)
        assert_unavailable_json(home_as_json)
        assert_unavailable_json(session)
    else:
        # SQLite: a writer's lock does not stop readers (WAL).
        assert home.status_code == 200 and "You are signed in as" in home.text
        assert session.json()["user"]
    assert errors() == []


def test_the_same_process_serves_again_when_the_database_returns(
    server, database_fault
):
    visitor = signed_in_visitor(server)
    database_fault.cut()
    visitor.get("/")
    visitor.get("/api/auth/session")
    database_fault.restore()

    home = visitor.get("/")
    session = visitor.get("/api/auth/session")

    assert home.status_code == 200
    assert "You are signed in as" in home.text
    assert session.status_code == 200
    assert session.json()["user"]


def test_a_cut_then_restored_database_twice(server, database_fault):
    """Recovery leaves nothing behind: a second cut is answered the same way."""
    visitor = signed_in_visitor(server)
    action, fields = visitor.form("/signup", "/signup")

    for _ in range(2):
        database_fault.cut()
        assert_unavailable_page(post_signup(visitor, action, fields, unique_email("x")))
        database_fault.restore()
        assert visitor.get("/").status_code == 200


# pyramid_retry and pyramid_tm ------------------------------------------------------
@pytest.fixture
def retrying_server(make_wsgi, database_fault):
    wsgi = make_wsgi(
        sqlalchemy__url=database_fault.url,
        pyramid__includes="tests.faults.retry_hook",
    )
    with LiveServer(wsgi) as server:
        server.registry = wsgi.registry
        yield server


def test_a_retryable_failure_is_retried_before_it_is_answered(
    retrying_server, database_fault
):
    """The database comes back between the first and the second attempt."""
    registry = retrying_server.registry
    registry[BEFORE_RETRY] = database_fault.restore
    visitor = Visitor(retrying_server.url)
    action, fields = visitor.form("/signup", "/signup")

    database_fault.cut()
    response = post_signup(visitor, action, fields, unique_email("retried"))

    if database_fault.retryable:
        assert registry[RETRIES] == ["OperationalError"]
        assert response.status_code == 302, response.text
        assert visitor.session()["user"]
    else:
        assert registry[RETRIES] == []
        assert_unavailable_page(response)
        database_fault.restore()


def test_a_failure_through_every_attempt_is_503_after_the_last(
    retrying_server, database_fault
):
    registry = retrying_server.registry
    visitor = Visitor(retrying_server.url)
    action, fields = visitor.form("/signup", "/signup")

    database_fault.cut()
    response = post_signup(visitor, action, fields, unique_email("exhausted"))
    database_fault.restore()

    assert_unavailable_page(response)
    attempts = int(BASE_SETTINGS["retry.attempts"])
    expected = attempts - 1 if database_fault.retryable else 0
    assert registry[RETRIES] == ["OperationalError"] * expected

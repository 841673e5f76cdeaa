"""The site as two processes (issue 12, item 3): two ``pserve`` processes of
``production.ini`` on different ports, one database (PostgreSQL, and a
shared SQLite file), one Redis, one mail queue and a real SMTP sink.

A sign-in on one process is a session on the other (JWT and database
sessions); a session ended on one is ended on the other; failed sign-ins on
both count against one limit; mail queued by both is delivered once, even by
two queue runs at the same time. No process logs a traceback.
"""

from __future__ import annotations

import time
from urllib.parse import quote, urlsplit

import pytest
import requests

from tests.functional.registration.helpers import link_to
from tests.scale.cluster import SIGNIN_ACCOUNT_LIMIT, Cluster
from tests.scale.conftest import CHECK_INTERVAL
from tests.shipped.support import PASSWORD, Visitor, unique_email

pytestmark = pytest.mark.live
NEW_PASSWORD = "marble kettle orchard 77"
COMMAND_TIMEOUT = 120


def same_browser(visitor: Visitor, base_url: str) -> Visitor:
    """The same browser (cookie jar) talking to another process."""
    other = Visitor(base_url)
    other.http = visitor.http
    return other


def replay(base_url: str, cookies: dict[str, str]):
    """A fresh client sending exactly ``cookies``: the session JSON it gets."""
    client = requests.Session()
    for name, value in cookies.items():
        client.cookies.set(name, value)
    answer = client.get(f"{base_url}/api/auth/session", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def session_cookies(visitor: Visitor) -> dict[str, str]:
    return {c.name: c.value for c in visitor.http.cookies if "session-token" in c.name}


def assert_no_traceback(cluster: Cluster) -> None:
    for app in cluster.processes:
        log = app.log_text()
        assert "Traceback" not in log, log
        assert " ERROR " not in log, log


def run_mail_queue(cluster: Cluster, *, processes: int = 1) -> None:
    """``authsite-mail --once <ini>``, ``processes`` of them at the same time."""
    runs = [
        cluster.command("authsite-mail", "--once", str(cluster.ini))
        for _ in range(processes)
    ]
    for run in runs:
        out, err = run.communicate(timeout=COMMAND_TIMEOUT)
        assert run.returncode == 0, err


@pytest.mark.parametrize("strategy", ["jwt", "database"])
def test_a_sign_in_on_one_process_is_a_session_on_the_other(clusters, strategy):
    cluster = clusters(strategy)
    a, b = cluster.processes
    email = unique_email(f"two-{strategy}")
    on_a = Visitor(a.url)

    assert on_a.sign_up(email).status_code == 302
    on_b = same_browser(on_a, b.url)

    assert on_a.session()["user"]["email"] == email
    assert on_b.session()["user"]["email"] == email
    # a signed-in page of B, not only the API
    assert "You are signed in as" in on_b.get("/").text
    # and the other way round: a fresh sign-in on B is a session on A
    fresh = Visitor(b.url)
    assert fresh.sign_in(email, PASSWORD).status_code == 302
    assert same_browser(fresh, a.url).session()["user"]["email"] == email
    assert_no_traceback(cluster)


def test_a_database_session_ended_on_one_process_is_gone_on_the_other(clusters):
    cluster = clusters("database")
    a, b = cluster.processes
    on_a = Visitor(a.url)
    on_a.sign_up(unique_email("signout"))
    copied = session_cookies(on_a)  # e.g. a stolen cookie
    assert replay(b.url, copied)["user"]

    signed_out = same_browser(on_a, b.url).sign_out()

    assert signed_out.status_code == 302
    assert replay(a.url, copied) is None
    assert replay(b.url, copied) is None
    assert_no_traceback(cluster)


def test_a_jwt_session_ended_on_one_process_is_refused_on_the_other(clusters):
    """The session registry: signing out on B revokes the record, so a copied
    JWT cookie stops working on B at once and on A within A's check interval."""
    cluster = clusters("jwt")
    a, b = cluster.processes
    on_a = Visitor(a.url)
    on_a.sign_up(unique_email("jwt-signout"))
    copied = session_cookies(on_a)  # e.g. a stolen cookie
    assert replay(a.url, copied)["user"]  # A has checked the record

    signed_out = same_browser(on_a, b.url).sign_out()

    assert signed_out.status_code == 302
    assert replay(b.url, copied) is None
    deadline = time.monotonic() + CHECK_INTERVAL + 20
    while replay(a.url, copied) is not None:
        assert time.monotonic() < deadline, "A still serves the ended session"
        time.sleep(0.2)
    assert_no_traceback(cluster)


def test_a_password_reset_on_one_process_ends_jwt_sessions_on_the_other(
    clusters, smtp_sink
):
    """A JWT session lives in the cookie; a reset on B ends its record, and A
    refuses it once A's check of the record is due (``CHECK_INTERVAL``)."""
    cluster = clusters("jwt")
    a, b = cluster.processes
    email = unique_email("reset")
    on_a = Visitor(a.url)
    on_a.sign_up(email)
    copied = session_cookies(on_a)
    assert replay(a.url, copied)["user"]["email"] == email  # A has checked it

    on_b = Visitor(b.url)
    asked = on_b.submit("/account/reset", "/account/reset", email=email)
    assert asked.status_code == 200
    run_mail_queue(cluster)  # composes the reset task and sends it
    (mail,) = [m for m in smtp_sink.to(email) if m["Subject"].startswith("Reset")]
    link = urlsplit(link_to(mail, "/account/reset/confirm?token="))
    confirm = f"{link.path}?{link.query}"
    done = on_b.submit(
        confirm,
        "/account/reset/confirm",
        password=NEW_PASSWORD,
        password_confirm=NEW_PASSWORD,
    )
    assert done.status_code in (200, 302), done.text
    assert replay(b.url, copied) is None  # the process that reset knows at once

    deadline = time.monotonic() + CHECK_INTERVAL + 20
    while replay(a.url, copied) is not None:
        assert time.monotonic() < deadline, "A still serves the session"
        time.sleep(0.2)
    assert Visitor(a.url).sign_in(email, NEW_PASSWORD).status_code == 302
    assert_no_traceback(cluster)


def signin_outcome(base_url: str, email: str, password: str) -> str:
    """``credentials``, ``rate_limited`` or ``ok``: how a sign-in ends."""
    response = Visitor(base_url).sign_in(email, password)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    if "error=" not in location:
        return "ok"
    assert location.startswith(f"{base_url}/api/auth/signin?error=CredentialsSignin")
    assert f"email={quote(email)}" in location
    return location.rsplit("code=", 1)[1]


def test_failed_sign_ins_on_both_processes_count_against_one_limit(clusters):
    cluster = clusters("jwt")
    a, b = cluster.processes
    email = unique_email("limit")
    Visitor(a.url).sign_up(email)
    wrong = "not the password at all"

    failures = [
        signin_outcome((a, b)[n % 2].url, email, wrong)
        for n in range(SIGNIN_ACCOUNT_LIMIT)
    ]
    # the limit is reached on the total, whichever process is asked next
    next_on_a = signin_outcome(a.url, email, PASSWORD)
    next_on_b = signin_outcome(b.url, email, PASSWORD)

    assert failures == ["credentials"] * SIGNIN_ACCOUNT_LIMIT
    assert (next_on_a, next_on_b) == ("rate_limited", "rate_limited")
    # another account is not affected
    other = unique_email("limit-other")
    Visitor(b.url).sign_up(other)
    assert signin_outcome(a.url, other, PASSWORD) == "ok"
    assert_no_traceback(cluster)


@pytest.mark.slow
def test_mail_queued_by_both_processes_is_delivered_once(clusters, smtp_sink):
    """Two queue runs at the same time over one queue: repoze.sendmail's
    ``.sending-`` links give each message to one run only."""
    cluster = clusters("jwt")
    a, b = cluster.processes
    addresses = [unique_email(f"mail{n}") for n in range(8)]
    for n, address in enumerate(addresses):  # each queues a verification mail
        assert Visitor((a, b)[n % 2].url).sign_up(address).status_code == 302

    run_mail_queue(cluster, processes=2)
    run_mail_queue(cluster)  # nothing is left to send again

    received = {address: len(smtp_sink.to(address)) for address in addresses}
    assert received == dict.fromkeys(addresses, 1)
    left = [p.name for sub in ("new", "cur") for p in (cluster.queue / sub).iterdir()]
    assert left == []
    assert_no_traceback(cluster)

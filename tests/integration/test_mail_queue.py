"""Mail leaves the request: queued in its transaction, delivered by the queue processor.

Real parts throughout: the app's maildir queue on disk, repoze.sendmail's
processor (as ``authsite-mail`` runs it, the command itself included) and an
aiosmtpd server on 127.0.0.1 that is down, then up.
"""

# ruff: noqa: F811 - pytest fixtures imported from mail_support

from __future__ import annotations

import email
import email.policy
import email.utils
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from webtest import TestApp

from tests.conftest import ROOT, SMTPSink, free_port
from tests.functional.registration.helpers import link_to, signup, unique_email
from tests.mail_support import mail_queue  # noqa: F401 - fixture

MAIL_VIEW = {"pyramid__includes": "tests.mail_support.include_mail_view"}


def request_reset(browser: TestApp, address: str) -> None:
    form = browser.get("/account/reset").forms[0]
    form["email"] = address
    form.submit(status=200)


def write_ini(path: Path, settings: dict) -> Path:
    lines = ["[app:main]", "use = egg:authsite"]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_mail_queued_while_smtp_is_down_arrives_once_it_is_back(
    make_app, app_settings, mail_queue, tmp_path
):
    port = free_port()  # nothing listens here yet
    app_settings["mail.port"] = str(port)
    browser = make_app()
    owner = unique_email()
    signup(browser, owner, status=302)
    request_reset(browser, owner)
    # the verification mail, and the reset task (composed at delivery)
    assert len(mail_queue.files("new")) == 2

    assert mail_queue.deliver(browser) == 2  # SMTP down: both mails stay queued
    assert mail_queue.deliver(browser) == 2  # and are tried again on the next run
    assert not any(name.startswith(".") for name in mail_queue.files("new"))

    sink = SMTPSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # the documented production command, once (as from cron)
        ini = write_ini(tmp_path / "site.ini", app_settings)
        done = subprocess.run(
            [str(Path(sys.executable).parent / "authsite-mail"), "--once", str(ini)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
        messages = sink.wait_for(2)
        assert mail_queue.deliver(browser) == 0
        time.sleep(0.2)  # a duplicate would have arrived by now
    finally:
        controller.stop()

    assert sorted(str(m["Subject"]) for m in messages) == [
        "Confirm your email address (Authsite)",
        "Reset your password (Authsite)",
    ]
    assert len(sink.messages) == 2
    assert all(m["To"] == owner and m["Date"] for m in messages)
    (reset,) = [m for m in messages if m["Subject"].startswith("Reset")]
    assert link_to(reset, "/account/reset/confirm?token=")


@pytest.mark.no_database
def test_a_rolled_back_request_sends_nothing(make_app, mail_queue, smtp_server):
    browser = make_app(**MAIL_VIEW)

    browser.post("/test-mail", {"to": "kept@example.com", "fail": "1"}, status=500)
    assert mail_queue.files("new") == mail_queue.files("tmp") == []
    browser.post("/test-mail", {"to": "sent@example.com"}, status=200)
    assert len(mail_queue.files("new")) == 1

    assert mail_queue.deliver(browser) == 0
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "sent@example.com"
    assert smtp_server.to("kept@example.com") == []


@pytest.mark.no_database
def test_a_request_that_queues_mail_does_not_wait_for_smtp(make_app, mail_queue):
    # mail.port points at a closed port: sending inside the request would fail
    browser = make_app(**MAIL_VIEW)

    answer = browser.post("/test-mail", {"to": "later@example.com"}, status=200)

    assert answer.text == "queued"
    assert mail_queue.pending() == 1


def delivered(maildir: Path, queue) -> list[Path]:
    """The ``.eml`` files once the queue is empty; a bounded wait for the thread."""
    deadline = time.monotonic() + 10
    while (queue.pending() or not list(maildir.glob("*.eml"))) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.02)
    assert queue.pending() == 0
    return list(maildir.glob("*.eml"))


def test_dev_mailbox_shows_queued_mail_with_its_date(make_app, mail_queue, tmp_path):
    maildir = tmp_path / "dev-mail"
    browser = make_app(app__env="development", mail__dev_maildir=str(maildir))
    owner = unique_email()
    signup(browser, owner, status=302)

    # this run, or the development thread's if it got there first
    mail_queue.deliver(browser)

    (path,) = delivered(maildir, mail_queue)
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Date"]
    page = browser.get("/dev/mail")
    assert owner in page.text
    sent = email.utils.parsedate_to_datetime(str(message["Date"]))
    assert f'<time datetime="{sent.isoformat()}">' in page.text


def test_under_pserve_in_development_a_thread_delivers_the_queue(
    make_app, mail_queue, tmp_path
):
    maildir = tmp_path / "dev-mail"
    browser = make_app(app__env="development", mail__dev_maildir=str(maildir))

    signup(browser, unique_email(), status=302)

    # woken as the request ends; no delivery by the test
    assert len(delivered(maildir, mail_queue)) == 1


def test_a_mail_task_takes_the_write_lock_when_it_begins(
    make_app, mail_queue, smtp_server
):
    """A reset task reads (the account), then writes (its token). On SQLite a
    transaction begun deferred that reads, then writes, fails at once
    ("database is locked") when another writer committed in between; the
    task's begins IMMEDIATE, waiting for the lock, as a request that may
    write does."""
    browser = make_app()
    owner = unique_email()
    signup(browser, owner, status=302)
    request_reset(browser, owner)
    engine = browser.app.registry["db_engine"]
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        assert mail_queue.deliver(browser) == 0
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)

    # the verification mail, and the reset mail the task composed
    assert link_to(smtp_server.wait_for(2)[-1], "/account/reset/")
    if engine.dialect.name == "sqlite":
        assert "BEGIN IMMEDIATE" in statements
        assert "BEGIN " not in statements  # no deferred transaction

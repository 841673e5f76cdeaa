"""The development mailbox at /dev/mail: the whole signup flow without a mail server.

Mounted only when ``app.env = development`` (and ``mail.dev_maildir`` is set).
"""

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError

from tests.functional.registration.helpers import session, signup, unique_email

DEV = {"app__env": "development"}


def test_dev_mailbox_lists_messages_with_their_links(make_app, tmp_path, dbengine):
    browser = make_app(mail__dev_maildir=str(tmp_path / "mail"), **DEV)
    email = unique_email()
    signup(browser, email, status=302)
    assert [p.suffix for p in (tmp_path / "mail").iterdir()] == [".eml"]

    mailbox = browser.get("/dev/mail")

    assert "Confirm your email address (Authsite)" in mailbox.text
    assert email in mailbox.text
    verify = mailbox.click(href=r"/account/verify/\?token=")
    done = verify.forms[0].submit()
    assert "Email address confirmed" in done.text
    message = mailbox.click("Confirm your email address")
    assert "Please confirm your email address" in message.text
    assert session(browser)["user"]["email"] == email


@pytest.mark.no_database
def test_dev_mailbox_refuses_paths_outside_the_directory(make_app, tmp_path):
    (tmp_path / "secret.eml").write_text("Subject: secret\n\nno")
    browser = make_app(mail__dev_maildir=str(tmp_path / "mail"), **DEV)

    for path in (
        "/dev/mail/..%2Fsecret.eml",
        "/dev/mail/missing.eml",
        "/dev/mail/x.txt",
    ):
        assert browser.get(path, status=404).status_int == 404


@pytest.mark.no_database
def test_no_dev_mailbox_without_a_dev_maildir(make_app):
    make_app(**DEV).get("/dev/mail", status=404)


def test_no_dev_mailbox_in_testing_even_with_a_dev_maildir(make_app, tmp_path):
    maildir = tmp_path / "mail"
    browser = make_app(app__env="testing", mail__dev_maildir=str(maildir))
    signup(browser, unique_email(), status=302)

    browser.get("/dev/mail", status=404)
    assert len(list(maildir.glob("*.eml"))) == 1  # mail is still written there


@pytest.mark.no_database
def test_production_refuses_a_dev_maildir(make_wsgi, tmp_path):
    with pytest.raises(ConfigurationError, match="mail.dev_maildir"):
        make_wsgi(
            app__env="production",
            mail__queue_path=str(tmp_path / "queue"),
            mail__dev_maildir=str(tmp_path / "mail"),
        )

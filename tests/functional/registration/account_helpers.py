"""Driving the account pages (``/account/...``) as a person, and as an attacker."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from webtest import TestApp

from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
    csrf_token,
    signup,
    unique_email,
)

MAGIC = {
    "auth__providers": "email",
    "auth__provider__email__from": "sign-in@example.test",
}
#: rate limiting on, with counters of the app's own (the default limits)
THROTTLED = {"ratelimit__enabled": "true", "ratelimit__storage_url": "memory://"}


def signed_up(browser: TestApp, smtp_server, email: str | None = None) -> str:
    """A new account (optional mode: signed in at once); its mail is cleared."""
    email = email or unique_email()
    signup(browser, email, status=302)
    smtp_server.wait_for(1)
    smtp_server.clear()
    return email


def copy_of(browser: TestApp) -> TestApp:
    """Another browser holding a copy of ``browser``'s cookies."""
    copy = TestApp(browser.app)
    for name, value in browser.cookies.items():
        copy.set_cookie(name, value)
    return copy


def magic_signin(browser: TestApp, smtp_server, email: str) -> None:
    """Sign in with an emailed link (the account then has no password)."""
    smtp_server.clear()
    browser.post(
        "/api/auth/signin/email",
        {"csrfToken": csrf_token(browser), "email": email},
        status=302,
    )
    [message] = smtp_server.wait_for(1)
    text = message.get_body(("plain",)).get_content()
    link = urlsplit(re.search(r"^(http://\S+)\s*$", text, re.M).group(1))
    browser.get(f"{link.path}?{link.query}", status=302)
    smtp_server.clear()


def change_password(
    browser: TestApp,
    new: str,
    *,
    current: str | None = GOOD_PASSWORD,
    confirm: str | None = None,
    status: int | None = None,
):
    form = browser.get("/account/password").forms[0]
    if current is not None:
        form["current_password"] = current
    form["password"] = new
    form["password_confirm"] = new if confirm is None else confirm
    return form.submit(status=status)


def request_email_change(
    browser: TestApp,
    new_email: str,
    *,
    current: str | None = GOOD_PASSWORD,
    status: int | None = None,
):
    form = browser.get("/account/email").forms[0]
    form["email"] = new_email
    if current is not None:
        form["current_password"] = current
    return form.submit(status=status)


def delete_account(
    browser: TestApp, *, current: str | None = GOOD_PASSWORD, status=None
):
    form = browser.get("/account/delete").forms[0]
    if current is not None:
        form["current_password"] = current
    return form.submit(status=status)


def ask_reset(browser: TestApp, email: str, client: str) -> int:
    """A stranger's reset request for ``email`` (another browser on the same
    site, at client address ``client``); its status."""
    stranger = TestApp(browser.app, extra_environ={"REMOTE_ADDR": client})
    form = stranger.get("/account/reset").forms[0]
    form["email"] = email
    return form.submit(status="*").status_int


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path

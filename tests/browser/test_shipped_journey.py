"""A person in Chromium on ``pserve development.ini`` as shipped (issue 9,
item 1): sign up, sign out, sign in, then a magic link followed from
``/dev/mail``. The debug toolbar is on (the browser connects from 127.0.0.1).
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.browser.support import follow
from tests.shipped.server import shipped  # noqa: F401 - pserve on development.ini
from tests.shipped.support import MAIL_TIMEOUT, PASSWORD, unique_email

SIGNED_IN = re.compile("You are signed in as")
SIGNED_OUT = "You are not signed in."


def sign_out(page: Page) -> None:
    follow(page.locator("header").get_by_role("link", name="Sign out"))
    follow(page.locator("form[action$='/api/auth/signout']").get_by_role("button"))
    expect(page.locator("main")).to_contain_text(SIGNED_OUT)


def open_mail_link(page: Page, base_url: str, address: str, fragment: str) -> None:
    """Wait for the mail to show up in /dev/mail (delivery may be queued),
    then click its link as a person would."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    page.goto(f"{base_url}/dev/mail")
    mail = page.locator("article", has_text=address)
    while mail.count() == 0:
        assert time.monotonic() < deadline, f"no mail to {address} in /dev/mail"
        page.wait_for_timeout(250)
        page.reload()
    follow(mail.locator(f"a[href*='{fragment}']").first)


def test_sign_up_sign_out_sign_in_and_magic_link(page: Page, shipped):  # noqa: F811
    email = unique_email("browser")
    main = page.locator("main")

    page.goto(f"{shipped.url}/signup")
    signup = page.locator("form[action$='/signup/']")
    signup.locator("[name=name]").fill("Browser Person")
    signup.locator("[name=email]").fill(email)
    signup.locator("[name=password]").fill(PASSWORD)
    signup.locator("[name=password_confirm]").fill(PASSWORD)
    follow(signup.locator("[type=submit]"))
    expect(main).to_contain_text(SIGNED_IN)

    sign_out(page)

    follow(page.locator("header").get_by_role("link", name="Sign in"))
    credentials = page.locator("form[action$='/api/auth/callback/credentials']")
    credentials.locator("[name=email]").fill(email)
    credentials.locator("[name=password]").fill(PASSWORD)
    follow(credentials.get_by_role("button"))
    expect(main).to_contain_text(SIGNED_IN)
    expect(main).to_contain_text(email)

    sign_out(page)

    magic = unique_email("browser-magic")
    page.goto(f"{shipped.url}/api/auth/signin")
    email_form = page.locator("form[action$='/api/auth/signin/email']")
    email_form.locator("[name=email]").fill(magic)
    follow(email_form.get_by_role("button"))
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    open_mail_link(page, shipped.url, magic, "/api/auth/callback/email")

    expect(main).to_contain_text(SIGNED_IN)
    expect(main).to_contain_text(magic)

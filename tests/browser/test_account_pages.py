"""The account page clicked through in Chromium: change password, change email
through the mailed link, delete the account.

JavaScript is off (every page is a plain HTML form), mail is read through the
development mailbox, and a second browser holds a copy of the first one's
cookies, as someone who copied them would.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from tests.browser.support import follow
from tests.browser.test_registration_pages import open_latest_link, sign_up

PASSWORD = "a long and quiet river"
NEW_PASSWORD = "another quiet evening walk"


@pytest.fixture
def site(live_server, tmp_path):
    return live_server(app__env="development", mail__dev_maildir=str(tmp_path / "mail"))


@pytest.fixture
def second_browser(browser):
    context = browser.new_context(java_script_enabled=False)
    yield context
    context.close()


def open_account(page: Page, site) -> None:
    page.goto(site.url + "/")
    follow(page.get_by_role("link", name="Account"))
    page.wait_for_url(site.url + "/account")
    assert page.title() == "Account · Authsite"


def signed_in_as(page: Page, site) -> str | None:
    page.goto(site.url + "/api/auth/session")
    text = page.inner_text("body")
    found = re.search(r'"email":\s*"([^"]+)"', text)
    return found.group(1) if found else None


def test_change_password_then_email_then_delete(site, page_without_js, second_browser):
    page = page_without_js
    sign_up(page, site, "mover@example.com")
    other = second_browser.new_page()
    other.context.add_cookies(page.context.cookies())
    assert signed_in_as(other, site) == "mover@example.com"

    # change password: a wrong current one first, then the right one
    open_account(page, site)
    follow(page.get_by_role("link", name="Password"))
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    follow(page.get_by_role("button", name="Change password"))
    assert page.title() == "Error: Change your password · Authsite"
    assert page.get_by_label("Current password").get_attribute("aria-invalid") == "true"
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    follow(page.get_by_role("button", name="Change password"))
    assert "Your password was changed" in page.inner_text("main")
    assert signed_in_as(page, site) == "mover@example.com"
    assert signed_in_as(other, site) is None  # the copied cookie no longer works

    # change email through the link mailed to the new address
    open_account(page, site)
    follow(page.get_by_role("link", name="Email"))
    page.get_by_label("New email address").fill("moved@example.com")
    page.get_by_label("Current password").fill(NEW_PASSWORD)
    follow(page.get_by_role("button", name="Send confirmation link"))
    assert "We sent a link to moved@example.com" in page.inner_text("main")
    open_latest_link(page, site, "Confirm your new email")
    follow(page.get_by_role("button", name="Confirm new address"))
    assert "Your email address was changed" in page.inner_text("main")
    assert "moved@example.com" in page.inner_text("main")
    assert signed_in_as(page, site) == "moved@example.com"

    # delete the account
    other.context.add_cookies(page.context.cookies())
    assert signed_in_as(other, site) == "moved@example.com"
    open_account(page, site)
    follow(page.get_by_role("link", name="Delete account"))
    page.get_by_label("Current password").fill(NEW_PASSWORD)
    follow(page.get_by_role("button", name="Delete my account"))
    page.wait_for_url(site.url + "/account/deleted")
    assert page.title() == "Account deleted · Authsite"
    assert page.get_by_role("link", name="Sign in").count() == 1
    assert signed_in_as(page, site) is None
    assert signed_in_as(other, site) is None

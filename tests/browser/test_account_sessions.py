"""``/account/sessions`` in two Chromium contexts: one person, two devices.

Device B lists the account's sessions, sees A's and its own ("this
device"), and signs A out; A's next request is signed out. JavaScript is
off: the page is plain HTML forms.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browser.support import follow

PASSWORD = "a long and quiet river"
EMAIL = "two.devices@example.com"


@pytest.fixture
def site(live_server, tmp_path):
    return live_server(app__env="development", mail__dev_maildir=str(tmp_path / "mail"))


@pytest.fixture
def device_b(browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_up(page: Page, site) -> None:
    page.goto(site.url + "/signup")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    follow(page.get_by_role("button", name="Create account"))


def sign_in(page: Page, site) -> None:
    page.goto(site.url + "/api/auth/signin")
    form = page.locator("form").filter(
        has=page.get_by_role("button", name="Sign in with Email and password")
    )
    form.get_by_label("Email").fill(EMAIL)
    form.get_by_label("Password").fill(PASSWORD)
    follow(form.get_by_role("button"))


def test_device_b_signs_device_a_out(site, page_without_js, device_b):
    device_a = page_without_js
    sign_up(device_a, site)
    assert device_a.url == site.url + "/"
    sign_in(device_b, site)
    assert device_b.url == site.url + "/"

    device_a.goto(site.url + "/account/sessions")  # A is signed in here
    assert device_a.get_by_role("heading", name="Your sessions").is_visible()

    device_b.goto(site.url + "/account/sessions")
    sessions = device_b.locator("section.session")
    assert sessions.count() == 2
    assert sessions.filter(has_text="(this device)").count() == 1
    other = sessions.filter(has_not_text="(this device)")
    assert "Chrome" in other.inner_text()  # HeadlessChrome on Linux
    follow(other.get_by_role("button", name="Sign out this session"))
    assert "That session was signed out." in device_b.inner_text("main")
    assert device_b.locator("section.session").count() == 1

    device_a.goto(site.url + "/account/sessions")
    assert "/api/auth/signin" in device_a.url
    assert "error=SessionRequired" in device_a.url
    device_b.goto(site.url + "/account/sessions")
    assert device_b.get_by_role("heading", name="Your sessions").is_visible()

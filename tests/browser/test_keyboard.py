"""Keyboard only: sign in, a failed sign-in, and signup with Tab, typing and Enter.

No clicks and no ``fill``: focus moves with Tab (or lands where the page puts
it), text is typed into whatever has the focus, Enter submits. JavaScript is
off, as the pages must work without it; the focus a page gives must come
from its HTML (``autofocus``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page

PASSWORD = "a long and quiet river"
MAX_TABS = 30


@pytest.fixture
def site(live_server, tmp_path):
    return live_server(
        app__env="development",
        auth__providers="email",
        auth__theme__brand_name="Authsite",
        mail__dev_maildir=str(tmp_path / "mail"),
    )


@pytest.fixture
def account(site) -> str:
    """An account made through the signup form (over HTTP, not the keyboard)."""
    email = "keys@example.com"
    client = requests.Session()
    page = client.get(f"{site.url}/signup", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post(
        f"{site.url}/signup",
        data={
            "csrf_token": token,
            "email": email,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        timeout=30,
    ).raise_for_status()
    return email


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def focused(page: Page) -> dict:
    """What has the focus (read through the DevTools protocol: page scripts are off)."""
    return page.evaluate(
        """() => {
        const e = document.activeElement;
        return {id: e.id, tag: e.tagName.toLowerCase(), value: e.value ?? null,
                describedby: e.getAttribute("aria-describedby"),
                invalid: e.getAttribute("aria-invalid")};
    }"""
    )


def tab_to(page: Page, element_id: str) -> None:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if focused(page)["id"] == element_id:
            return
    raise AssertionError(f"#{element_id} not reached with {MAX_TABS} Tabs")


def type_and_tab(page: Page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Tab")


def enter(page: Page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


EMAIL_FIELD = "input-email-for-credentials-provider"
PASSWORD_FIELD = "input-password-for-credentials-provider"


def test_sign_in_by_keyboard_lands_where_the_person_was_going(site, account, page):
    page.goto(site.url + "/members")  # signed out: sent to sign in, told why
    assert "Please sign in to access this page." in page.inner_text("main")

    tab_to(page, EMAIL_FIELD)
    type_and_tab(page, account)
    assert focused(page)["id"] == PASSWORD_FIELD
    page.keyboard.type(PASSWORD)
    enter(page)

    assert page.url == site.url + "/members"
    assert page.title() == "Members · Authsite"


def test_failed_sign_in_by_keyboard_keeps_the_email_and_focuses_the_password(
    site, account, page
):
    page.goto(site.url + "/api/auth/signin")
    tab_to(page, EMAIL_FIELD)
    type_and_tab(page, account)
    page.keyboard.type("not the right password")
    enter(page)

    assert "error=CredentialsSignin" in page.url
    assert page.title() == "Error: Sign in · Authsite"
    now = focused(page)
    assert now["id"] == PASSWORD_FIELD
    assert now["invalid"] == "true"
    message = page.locator(f"#{now['describedby']}")
    assert message.get_attribute("role") == "alert"
    assert message.inner_text() == (
        "Sign in failed. Check the details you provided are correct."
    )
    assert page.locator(f"#{EMAIL_FIELD}").input_value() == account

    # Straight on: the right password where the focus already is.
    page.keyboard.type(PASSWORD)
    enter(page)
    assert page.url == site.url + "/"
    assert "You are signed in as" in page.inner_text("main")


def test_signup_by_keyboard_with_a_correction_from_the_error_summary(site, page):
    page.goto(site.url + "/signup")
    tab_to(page, "field-email")
    type_and_tab(page, "fern@example")  # no top-level domain: refused
    type_and_tab(page, "Fern")
    type_and_tab(page, PASSWORD)
    page.keyboard.type(PASSWORD)
    enter(page)

    assert page.title() == "Error: Create an account · Authsite"
    assert focused(page)["id"] == "error-summary"
    page.keyboard.press("Tab")  # the summary's first entry links to the field
    assert page.evaluate("document.activeElement.getAttribute('href')") == (
        "#field-email"
    )
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "field-email"
    page.keyboard.press("End")
    page.keyboard.type(".com")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the name was kept; on to the password
    assert focused(page)["id"] == "field-password"
    type_and_tab(page, PASSWORD)
    page.keyboard.type(PASSWORD)
    enter(page)

    assert page.url == site.url + "/"
    assert "You are signed in as Fern" in page.inner_text("main")

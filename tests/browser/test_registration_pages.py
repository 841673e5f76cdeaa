"""Signup, email verification and password reset clicked through in Chromium.

JavaScript is off: every page must work as plain HTML forms. Mail is written
to a directory and read back through the development mail page, as a person
trying the site locally would.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.support import follow

PASSWORD = "a long and quiet river"
NEW_PASSWORD = "another quiet evening walk"


@pytest.fixture
def site(live_server, tmp_path):
    return live_server(app__env="development", mail__dev_maildir=str(tmp_path / "mail"))


def open_latest_link(page, site, subject_part: str) -> None:
    """Open /dev/mail and follow the first link of the newest matching message."""
    page.goto(site.url + "/dev/mail")
    article = (
        page.locator("article").filter(has_text=re.compile(subject_part, re.I)).first
    )
    link = article.locator("ul a").first.get_attribute("href")
    page.goto(link)


def sign_up(page, site, email="fern@example.com"):
    page.goto(site.url + "/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name (optional)").fill("River Song")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    follow(page.get_by_role("button", name="Create account"))


def test_signup_signs_in_and_the_mailed_link_verifies(site, page_without_js):
    page = page_without_js
    sign_up(page, site)
    assert page.url == site.url + "/"
    assert "You are signed in as River Song" in page.inner_text("main")

    open_latest_link(page, site, "confirm|verify")
    follow(page.get_by_role("button", name="Confirm"))
    assert "confirmed" in page.inner_text("main").lower()


@pytest.mark.no_database
def test_signup_refusals_are_shown_next_to_their_field(site, page_without_js):
    page = page_without_js
    page.goto(site.url + "/signup")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("password")
    page.get_by_label("Confirm password").fill("something else")
    follow(page.get_by_role("button", name="Create account"))

    email = page.get_by_label("Email")
    assert email.get_attribute("aria-invalid") == "true"
    assert email.input_value() == "not-an-email"  # kept
    assert page.get_by_label("Password", exact=True).input_value() == ""  # never kept
    password = page.get_by_label("Password", exact=True)
    assert password.get_attribute("aria-invalid") == "true"
    messages = " ".join(
        page.locator(f"#{i}").inner_text()
        for i in password.get_attribute("aria-describedby").split()
    )
    assert "common" in messages.lower()  # "password" is refused as too common

    page.get_by_label("Email").fill("fern@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD + "!")
    follow(page.get_by_role("button", name="Create account"))
    assert page.get_by_label("Confirm password").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Email").get_attribute("aria-invalid") is None


def test_password_reset_from_the_mailed_link(site, page_without_js, browser):
    page = page_without_js
    sign_up(page, site, "reset@example.com")
    page.goto(site.url + "/api/auth/signout")
    follow(page.get_by_role("button", name="Sign out"))

    page.goto(site.url + "/account/reset")
    page.get_by_label("Email").fill("reset@example.com")
    follow(page.get_by_role("button", name="Send reset link"))
    assert "if an account exists" in page.inner_text("main").lower()

    open_latest_link(page, site, "reset|password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label(re.compile("Confirm", re.I)).fill(NEW_PASSWORD)
    follow(page.get_by_role("button", name=re.compile("password", re.I)))

    page.goto(site.url + "/api/auth/signin")
    form = page.locator("form").filter(
        has=page.get_by_role("button", name="Sign in with Email and password")
    )
    form.get_by_label("Email").fill("reset@example.com")
    form.get_by_label("Password").fill(PASSWORD)
    follow(form.get_by_role("button"))
    assert "error=CredentialsSignin" in page.url

    form = page.locator("form").filter(
        has=page.get_by_role("button", name="Sign in with Email and password")
    )
    form.get_by_label("Email").fill("reset@example.com")
    form.get_by_label("Password").fill(NEW_PASSWORD)
    follow(form.get_by_role("button"))
    assert page.url == site.url + "/"
    assert "reset@example.com" in page.inner_text("main")

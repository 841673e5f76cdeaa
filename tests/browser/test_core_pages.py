"""The core's built-in pages in a real browser: sign in, members, sign out."""

from __future__ import annotations

import json

import pytest

from tests.browser.support import follow

# A credentials provider of the test's own, beside the site's (registration's).
CORE = {
    "auth.providers": "testlogin",
    "auth.provider.testlogin.type": "credentials",
    "auth.provider.testlogin.name": "Test login",
    "auth.provider.testlogin.authorize": "tests.browser.support:authorize",
}
BUTTON = "Sign in with Test login"


@pytest.fixture
def site(live_server):
    return live_server(**{k.replace(".", "__"): v for k, v in CORE.items()})


def sign_in(page, password="wonderland-42"):
    form = page.locator("form").filter(has=page.get_by_role("button", name=BUTTON))
    form.get_by_label("Username").fill("alice")
    form.get_by_label("Password").fill(password)
    follow(form.get_by_role("button", name=BUTTON))


def test_signin_page_works_without_javascript(site, page_without_js):
    page = page_without_js
    page.goto(site.url + "/api/auth/signin")
    assert page.title() == "Sign in"
    # Every input is reachable by its label.
    sign_in(page, "wrong")
    assert "error=CredentialsSignin" in page.url
    assert page.get_by_role("alert").inner_text() == (
        "Sign in failed. Check the details you provided are correct."
    )
    sign_in(page)
    assert page.url == site.url + "/"
    assert "You are signed in as Alice Example" in page.inner_text("main")


def test_members_page_sends_a_signed_out_visitor_to_sign_in_and_back(
    site, page_without_js
):
    page = page_without_js
    page.goto(site.url + "/members")
    assert "/api/auth/signin" in page.url
    sign_in(page)
    assert page.url == site.url + "/members"
    assert page.get_by_role("heading", name="Members area").is_visible()


def test_sign_out_asks_then_signs_out(site, page):
    page.goto(site.url + "/api/auth/signin")
    sign_in(page)
    follow(page.get_by_role("link", name="Sign out"))
    assert page.title() == "Sign out"
    assert page.get_by_text("Are you sure you want to sign out?").is_visible()
    follow(page.get_by_role("button", name="Sign out"))
    assert "You are not signed in." in page.inner_text("main")
    session = page.evaluate("fetch('/api/auth/session').then(r => r.json())")
    assert session is None


def test_authjs_client_calls_work_from_the_page(site, page):
    """The HTTP calls Auth.js's browser client makes (getCsrfToken, signIn with
    X-Auth-Return-Redirect, getSession, signOut), made by the page itself."""
    page.goto(site.url + "/")
    result = page.evaluate(
        """async () => {
        const csrf = (await (await fetch('/api/auth/csrf')).json()).csrfToken;
        const form = new URLSearchParams({csrfToken: csrf, username: 'alice',
            password: 'wonderland-42', callbackUrl: '/members'});
        const signin = await fetch('/api/auth/callback/testlogin', {method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded',
                      'X-Auth-Return-Redirect': '1'}, body: form});
        const url = (await signin.json()).url;
        const session = await (await fetch('/api/auth/session')).json();
        const update = await (await fetch('/api/auth/session', {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({csrfToken: csrf, data: {}})})).json();
        const out = await fetch('/api/auth/signout', {method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded',
                      'X-Auth-Return-Redirect': '1'},
            body: new URLSearchParams({csrfToken: csrf, callbackUrl: '/'})});
        const after = await (await fetch('/api/auth/session')).json();
        return JSON.stringify({url, session, update, out: await out.json(), after});
    }"""
    )
    data = json.loads(result)
    assert data["url"] == site.url + "/members"
    assert data["session"]["user"] == {
        "name": "Alice Example",
        "email": "alice@example.com",
    }
    assert data["update"]["user"]["email"] == "alice@example.com"
    assert data["out"] == {"url": site.url + "/"}
    assert data["after"] is None

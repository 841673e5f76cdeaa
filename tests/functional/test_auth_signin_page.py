"""The built-in sign-in page, ``GET signin`` (spec §1.5, §9.1)."""

from __future__ import annotations

import html
import re

import pytest

from tests.functional.support import (
    CREDENTIALS,
    NO_CACHE,
    PROVIDER,
    cookie_value,
    set_cookies,
)

pytestmark = pytest.mark.no_database


@pytest.fixture
def app(make_app):
    return make_app(
        **CREDENTIALS,
        pyramid__includes="tests.functional.support.include_email_credentials "
        "tests.functional.support.include_default_credentials",
    )


def form_for(page, action: str):
    for form in page.forms.values():
        if form.action == action:
            return form
    raise AssertionError(
        f"no form posting to {action}: {[f.action for f in page.forms.values()]}"
    )


def label_for(page, input_id: str) -> str:
    match = re.search(rf'<label for="{re.escape(input_id)}">([^<]*)</label>', page.text)
    assert match, f"no label for {input_id}"
    return match.group(1)


def test_signin_page_is_html_titled_sign_in(app):
    page = app.get("/api/auth/signin")

    assert page.status_int == 200
    assert page.content_type == "text/html"
    assert "<title>Sign in</title>" in page.text
    assert page.text.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page.text
    for name, value in NO_CACHE.items():
        assert page.headers[name] == value


def test_each_credentials_provider_has_a_form_posting_to_its_callback(app):
    page = app.get("/api/auth/signin")

    for pid in (PROVIDER, "login", "plain"):
        form = form_for(page, f"http://localhost/api/auth/callback/{pid}")
        assert form.method == "POST"


def test_forms_carry_the_csrf_token_of_the_cookie_and_the_callback_url(app):
    page = app.get("/api/auth/signin", params={"callbackUrl": "/members"})

    token = cookie_value(set_cookies(page)["authjs.csrf-token"]).split("|")[0]
    form = form_for(page, f"http://localhost/api/auth/callback/{PROVIDER}")
    assert form["csrfToken"].value == token
    assert form.fields["csrfToken"][0].attrs["type"] == "hidden"
    assert form["callbackUrl"].value == "http://localhost/members"
    assert form.fields["callbackUrl"][0].attrs["type"] == "hidden"


def test_foreign_callback_url_becomes_the_origin_in_the_form(app):
    page = app.get("/api/auth/signin", params={"callbackUrl": "https://evil.example/x"})

    form = form_for(page, f"http://localhost/api/auth/callback/{PROVIDER}")
    assert form["callbackUrl"].value == "http://localhost"
    assert cookie_value(set_cookies(page)["authjs.callback-url"]) == "http://localhost"


def test_credential_fields_are_labelled_inputs_with_authjs_ids(app):
    page = app.get("/api/auth/signin")

    form = form_for(page, "http://localhost/api/auth/callback/login")
    email = form.fields["email"][0]
    assert email.id == "input-email-for-login-provider"
    assert email.attrs["type"] == "email"
    assert email.attrs["autocomplete"] == "email"
    assert label_for(page, "input-email-for-login-provider") == "Email address"
    password = form.fields["password"][0]
    assert password.attrs["type"] == "password"
    assert password.attrs["autocomplete"] == "current-password"
    assert label_for(page, "input-password-for-login-provider") == "Password"
    assert "Sign in with Email and password" in page.text


def test_default_credential_fields_are_username_and_password_with_autocomplete(app):
    page = app.get("/api/auth/signin")

    form = form_for(page, "http://localhost/api/auth/callback/plain")
    username = form.fields["username"][0]
    assert username.attrs["autocomplete"] == "username"
    assert label_for(page, "input-username-for-plain-provider") == "Username"
    assert form.fields["password"][0].attrs["autocomplete"] == "current-password"


def test_every_input_that_is_not_hidden_has_a_label(app):
    page = app.get("/api/auth/signin")

    ids = re.findall(r'<input [^>]*id="([^"]+)"', page.text)
    assert ids
    for input_id in ids:
        assert label_for(page, input_id)
    visible = [
        m for m in re.findall(r"<input [^>]*>", page.text) if 'type="hidden"' not in m
    ]
    assert all(' id="' in tag for tag in visible)


def test_email_query_prefills_email_inputs(app):
    page = app.get("/api/auth/signin", params={"email": "zoe@example.com"})

    form = form_for(page, "http://localhost/api/auth/callback/login")
    assert form["email"].value == "zoe@example.com"


@pytest.mark.database
def test_form_submits_without_javascript(app):
    page = app.get("/api/auth/signin")
    form = form_for(page, "http://localhost/api/auth/callback/login")
    form["email"] = "alice@example.com"
    form["password"] = "correct horse battery staple"

    response = form.submit()

    assert response.status_int == 302
    assert app.get("/api/auth/session").json["user"]["name"] == "Alice Example"


# error messages -----------------------------------------------------------------------
DIFFERENT_ACCOUNT = "Try signing in with a different account."


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("Signin", DIFFERENT_ACCOUNT),
        ("OAuthSignin", DIFFERENT_ACCOUNT),
        ("OAuthCallbackError", DIFFERENT_ACCOUNT),
        ("OAuthCreateAccount", DIFFERENT_ACCOUNT),
        ("EmailCreateAccount", DIFFERENT_ACCOUNT),
        ("Callback", DIFFERENT_ACCOUNT),
        (
            "OAuthAccountNotLinked",
            "To confirm your identity, sign in with the same account you used "
            "originally.",
        ),
        ("EmailSignin", "The e-mail could not be sent."),
        (
            "CredentialsSignin",
            "Sign in failed. Check the details you provided are correct.",
        ),
        ("SessionRequired", "Please sign in to access this page."),
        ("MissingCSRF", "Unable to sign in."),
        ("Configuration", "Unable to sign in."),
        ("Whatever", "Unable to sign in."),
    ],
)
def test_error_code_shows_the_authjs_message(app, code, text):
    page = app.get("/api/auth/signin", params={"error": code})

    # SessionRequired is a notice rather than an error; its box says so.
    match = re.search(
        r'<div class="(?:error|notice)"[^>]*><p>([^<]*)</p></div>', page.text
    )
    assert match, page.text
    assert html.unescape(match.group(1)) == text


def test_credentials_signin_with_code_credentials_shows_the_generic_message(app):
    page = app.get(
        "/api/auth/signin", params={"error": "CredentialsSignin", "code": "credentials"}
    )

    assert "Sign in failed. Check the details you provided are correct." in page.text


def test_no_error_no_error_box(app):
    page = app.get("/api/auth/signin")

    assert 'class="error"' not in page.text


def test_error_code_is_never_echoed_into_the_page(app):
    page = app.get("/api/auth/signin", params={"error": "<script>alert(1)</script>"})

    assert "<script>alert(1)" not in page.text
    assert "Unable to sign in." in page.text


def test_signin_page_without_any_provider_of_ours_still_renders(make_app):
    page = make_app().get("/api/auth/signin")

    assert page.status_int == 200
    assert "<title>Sign in</title>" in page.text

"""``/account/methods`` (linked accounts, unlink) and ``/account/delete``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from webtest import TestApp

from tests.functional.registration.account_helpers import (
    MAGIC,
    copy_of,
    delete_account,
    magic_signin,
    request_email_change,
    signed_up,
)
from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
    rows,
    session,
    signin,
    unique_email,
    user_row,
)

GITHUB = {
    "auth__providers": "github",
    "auth__provider__github__client_id": "client-id",
    "auth__provider__github__client_secret": "client-secret",
}


def link(dbengine, user_id: int, provider: str, account_id: str) -> None:
    with dbengine.begin() as conn:
        conn.execute(
            sa.text(
                'INSERT INTO accounts ("userId", type, provider, "providerAccountId") '
                "VALUES (:u, 'oauth', :p, :a)"
            ),
            {"u": user_id, "p": provider, "a": account_id},
        )


def accounts_of(dbengine, user_id: int) -> list[tuple[str, str]]:
    return [
        (r.provider, r.providerAccountId)
        for r in rows(
            dbengine,
            'SELECT provider, "providerAccountId" FROM accounts WHERE "userId" = :u',
            u=user_id,
        )
    ]


def unlink_form(page, provider: str):
    return next(
        f
        for f in page.forms.values()
        if f.fields.get("provider", [None])[0] and (f["provider"].value == provider)
    )


# sign-in methods ---------------------------------------------------------------------
def test_linked_accounts_are_listed_and_unlinked_while_a_password_remains(
    make_app, smtp_server, dbengine
):
    browser = make_app(**GITHUB)
    email = signed_up(browser, smtp_server)
    user = user_row(dbengine, email)
    link(dbengine, user.id, "github", "gh-1")

    page = browser.get("/account/methods")
    assert page.html.title.text == "Sign-in methods · Authsite"
    assert "GitHub (account gh-1)" in page.text
    assert "Password: set" in page.text
    done = unlink_form(page, "github").submit(status=303)

    assert "The sign-in method was unlinked" in done.follow().text
    assert accounts_of(dbengine, user.id) == []


def test_the_last_way_to_sign_in_cannot_be_unlinked(make_app, smtp_server, dbengine):
    # A person who signed in with an email link, on a site that later turned
    # magic links off: their one GitHub account is all that signs them in.
    magic = make_app(**MAGIC)
    email = unique_email("oauth")
    magic_signin(magic, smtp_server, email)
    user = user_row(dbengine, email)
    link(dbengine, user.id, "github", "gh-only")
    browser = make_app(**GITHUB)
    for name, value in magic.cookies.items():
        browser.set_cookie(name, value)

    page = browser.get("/account/methods")
    assert "Your only way to sign in" in page.text
    assert not [f for f in page.forms.values() if "provider" in f.fields]
    csrf = browser.get("/account/email").forms[0]["csrf_token"].value
    refused = browser.post(
        "/account/methods/unlink",
        {"csrf_token": csrf, "provider": "github", "account": "gh-only"},
        status=400,
    )

    assert "only way to sign in" in refused.html.find(id="error").text
    assert accounts_of(dbengine, user.id) == [("github", "gh-only")]
    # With magic links on, the verified address is another way in.
    again = magic.get("/account/methods")
    assert "Email link: sent to" in again.text
    assert "Unlink" in again.text


def test_someone_elses_account_cannot_be_unlinked(make_app, smtp_server, dbengine):
    victim = signed_up(make_app(**GITHUB), smtp_server)
    victim_id = user_row(dbengine, victim).id
    link(dbengine, victim_id, "github", "gh-victim")
    attacker = make_app(**GITHUB)
    signed_up(attacker, smtp_server)
    csrf = attacker.get("/account/email").forms[0]["csrf_token"].value

    refused = attacker.post(
        "/account/methods/unlink",
        {"csrf_token": csrf, "provider": "github", "account": "gh-victim"},
        status=400,
    )
    without_fields = attacker.post(
        "/account/methods/unlink", {"csrf_token": csrf}, status=400
    )
    without_csrf = attacker.post(
        "/account/methods/unlink",
        {"provider": "github", "account": "gh-victim"},
        status=400,
    )

    assert "not linked to your account" in refused.text
    assert "not linked to your account" in without_fields.text
    assert "Form expired" in without_csrf.text
    assert accounts_of(dbengine, victim_id) == [("github", "gh-victim")]


def test_the_methods_page_offers_providers_not_linked_yet(make_app, smtp_server):
    browser = make_app(**GITHUB)
    signed_up(browser, smtp_server)

    page = browser.get("/account/methods")

    assert "Link another account" in page.text
    assert "GitHub" in page.text
    links = [a["href"] for a in page.html.select("main a")]
    assert any("/api/auth/signin?callbackUrl=" in h for h in links)
    refused = browser.get("/account/methods?link=reauth")
    assert "needs a recent sign-in" in refused.html.find(id="error").text


# deletion --------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["jwt", "database"])
def test_deleting_removes_every_row_and_signs_out_everywhere(
    make_wsgi, smtp_server, dbengine, strategy
):
    wsgi = make_wsgi(auth__session__strategy=strategy, **GITHUB)
    me, other_device = TestApp(wsgi), TestApp(wsgi)
    email = signed_up(me, smtp_server)
    signin(other_device, email, GOOD_PASSWORD)
    user_id = user_row(dbengine, email).id
    link(dbengine, user_id, "github", "gh-gone")
    request_email_change(me, unique_email("pending"))  # a token row
    copied = copy_of(me)

    done = delete_account(me, status=303)

    assert done.location == "http://localhost/account/deleted"
    page = done.follow()
    assert "Your account was deleted" in page.text
    assert page.html.title.text == "Account deleted · Authsite"
    assert "Sign in" in page.html.select_one("header .who").text
    assert session(me) is None
    assert session(copied) is None  # a copied cookie stops working at once
    assert session(other_device) is None
    assert me.get("/account", status=302)
    for table, column in (
        ("users", "id"),
        ("accounts", '"userId"'),
        ("sessions", '"userId"'),
        ("registration_passwords", "user_id"),
        ("registration_tokens", "user_id"),
    ):
        assert (
            rows(dbengine, f"SELECT 1 FROM {table} WHERE {column} = :u", u=user_id)  # noqa: S608
            == []
        )
    # the address is free again
    fresh = TestApp(wsgi)
    assert signin(fresh, email, GOOD_PASSWORD).location.endswith("code=credentials")


def test_a_wrong_password_deletes_nothing(make_app, smtp_server, dbengine):
    browser = make_app()
    email = signed_up(browser, smtp_server)

    page = delete_account(browser, current="not my password", status=400)
    empty = delete_account(browser, current="", status=400)

    assert page.html.title.text == "Error: Delete your account · Authsite"
    assert page.html.find(id="field-current_password")["aria-invalid"] == "true"
    assert "Enter your current password" in empty.text
    assert user_row(dbengine, email) is not None
    assert session(browser)["user"]["email"] == email


def test_deleting_without_the_csrf_token_deletes_nothing(
    make_app, smtp_server, dbengine
):
    browser = make_app()
    email = signed_up(browser, smtp_server)

    page = browser.post(
        "/account/delete", {"current_password": GOOD_PASSWORD}, status=400
    )

    assert "Form expired" in page.text
    assert user_row(dbengine, email) is not None


def test_a_password_less_account_is_deleted_after_a_recent_sign_in_only(
    make_app, smtp_server, dbengine
):
    email = unique_email("magic")
    browser = make_app(**MAGIC)
    magic_signin(browser, smtp_server, email)
    stale = make_app(**MAGIC, registration__reauth_max_age="0")
    for name, value in browser.cookies.items():
        stale.set_cookie(name, value)

    assert stale.get("/account/delete").html.find(id="reauth") is not None
    csrf = stale.get("/account/email").html.find("input", {"name": "csrf_token"})
    token = csrf["value"] if csrf else stale.get("/signup").forms[0]["csrf_token"].value
    stale.post("/account/delete", {"csrf_token": token}, status=403)
    assert user_row(dbengine, email) is not None

    delete_account(browser, current=None, status=303)
    assert user_row(dbengine, email) is None


# input nobody should send --------------------------------------------------------------
ACCOUNT_FORMS = [
    "/account/password",
    "/account/email",
    "/account/email/confirm",
    "/account/methods/unlink",
    "/account/delete",
]


@pytest.mark.parametrize("path", ACCOUNT_FORMS)
def test_unreadable_or_odd_forms_are_a_4xx_page_signed_in(
    make_app, smtp_server, dbengine, path
):
    browser = make_app()
    email = signed_up(browser, smtp_server)
    csrf = browser.get("/account/email").forms[0]["csrf_token"].value

    unreadable = browser.post(
        path,
        b"csrf_token=x&email=a%40example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=latin-1"},
        expect_errors=True,
    )
    odd = browser.post(
        path,
        b"csrf_token="
        + csrf.encode()
        + b"&token=%00%00&email="
        + "ü".encode() * 300
        + b"&current_password="
        + b"x" * 5000
        + b"&password=%ED%A0%80&provider=&account="
        + b"x" * 10000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        expect_errors=True,
    )
    odd_query = browser.get(
        path + "?token=%FF%FE&done=%00&link=\u2028", expect_errors=True
    )

    assert unreadable.status_int == 400
    assert 400 <= odd.status_int < 500
    assert odd_query.status_int < 500
    assert user_row(dbengine, email) is not None

"""The Pyramid security policy on the site's pages: ``request.identity``, ACLs,
and the members page that sends signed-out people to the sign-in page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.auth.jwt import JWTCodec
from tests.conftest import TEST_SECRET
from tests.functional.support import (
    CREDENTIALS,
    PASSWORD,
    PROVIDER,
    csrf_token,
    sign_in,
)

SESSION = "authjs.session-token"


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


@pytest.mark.no_database
def test_home_page_shows_a_signed_out_visitor_a_sign_in_link(app):
    page = app.get("/")

    assert "You are not signed in." in page.text
    link = page.html.find("a", string="Sign in")
    assert (
        link["href"]
        == "http://localhost/api/auth/signin?callbackUrl=http%3A%2F%2Flocalhost%2F"
    )


def test_home_page_shows_who_is_signed_in(app):
    sign_in(app)

    page = app.get("/")

    assert (
        "You are signed in as <strong>Alice Example</strong> (alice@example.com)"
        in page.text
    )


@pytest.mark.no_database
def test_members_page_redirects_signed_out_people_to_sign_in_and_back(app):
    response = app.get("/members")

    assert response.status_int == 302
    target = urlsplit(response.location)
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        "http://localhost/api/auth/signin"
    )
    assert parse_qs(target.query) == {
        "callbackUrl": ["http://localhost/members"],
        "error": ["SessionRequired"],
    }


def test_sign_in_from_the_members_redirect_lands_on_the_members_page(app):
    page = app.get("/members").follow()
    form = page.forms[
        next(
            k
            for k, f in page.forms.items()
            if f.action.endswith(f"/callback/{PROVIDER}")
        )
    ]
    form["username"] = "alice"
    form["password"] = PASSWORD

    response = form.submit()

    assert response.location == "http://localhost/members"
    members = response.follow()
    assert members.status_int == 200
    assert "Hello, <strong>Alice Example</strong>" in members.text


def test_signed_in_people_see_the_members_page(app):
    sign_in(app)

    page = app.get("/members")

    assert page.status_int == 200
    assert "Members area" in page.text


@pytest.mark.no_database
def test_expired_session_is_signed_out_on_site_pages(app):
    cookie = JWTCodec([TEST_SECRET]).encode(
        {"sub": "1", "name": "Alice"}, salt=SESSION, max_age=60, now=1_000_000_000
    )

    response = app.get("/members", headers={"Cookie": f"{SESSION}={cookie}"})

    assert response.status_int == 302


@pytest.mark.no_database
def test_token_without_subject_is_no_identity(app):
    cookie = JWTCodec([TEST_SECRET]).encode(
        {"name": "Nobody"}, salt=SESSION, max_age=60
    )

    assert (
        app.get("/members", headers={"Cookie": f"{SESSION}={cookie}"}).status_int == 302
    )


@pytest.mark.no_database
def test_post_to_members_when_signed_out_is_refused_not_redirected(app):
    response = app.post("/members", expect_errors=True)

    assert response.status_int == 403


def test_signed_out_after_signout(app):
    sign_in(app)

    app.post("/api/auth/signout", {"csrfToken": csrf_token(app)})

    assert app.get("/members").status_int == 302
    assert "You are not signed in." in app.get("/").text


def test_identity_and_authenticated_userid_come_from_the_session(app):
    from pyramid.request import Request
    from pyramid.scripting import prepare

    sign_in(app)
    cookie = "; ".join(f"{c.name}={c.value}" for c in app.cookiejar)
    request = Request.blank("/", headers={"Cookie": cookie})
    env = prepare(request=request, registry=app.app.registry)
    request.tm.begin()  # the jwt callbacks may read the database, as in a request
    try:
        assert request.identity.id == "1"
        assert request.identity.name == "Alice Example"
        assert request.identity.email == "alice@example.com"
        assert request.authenticated_userid == "1"
        assert request.is_authenticated
    finally:
        request.tm.abort()
        env["closer"]()


@pytest.mark.no_database
def test_roles_claim_becomes_role_principals(make_app):
    from pyramid.authorization import ACLHelper, Allow
    from pyramid.request import Request
    from pyramid.scripting import prepare

    from app.auth.security import AuthSecurityPolicy

    # a minted token (no registry session id) reads in stateless mode
    app = make_app(**CREDENTIALS, auth__session__check_interval="0")
    cookie = JWTCodec([TEST_SECRET]).encode(
        {"sub": "9", "roles": ["editor", 7]}, salt=SESSION, max_age=60
    )
    request = Request.blank("/", headers={"Cookie": f"{SESSION}={cookie}"})
    env = prepare(request=request, registry=app.app.registry)
    request.tm.begin()
    try:
        principals = AuthSecurityPolicy().principals(request)

        class Page:
            __acl__ = [(Allow, "role:editor", "edit")]

        assert "role:editor" in principals and "user:9" in principals
        assert "role:7" not in principals
        assert ACLHelper().permits(Page(), principals, "edit")
        assert request.has_permission("edit", Page())
    finally:
        request.tm.abort()
        env["closer"]()

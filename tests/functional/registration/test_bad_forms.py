"""No 5xx from registration's pages, whatever the input: a 400 page instead.

Every POST form of the package gets, with a valid CSRF cookie and token,
bodies WebOb cannot read (a charset other than UTF-8, a multipart body
without a boundary), bytes that are not UTF-8, and fields far over any
limit; its pages get query strings that are not UTF-8. Before, a foreign
charset and such a query string were a 500 on each. In the site, bodies are
refused by the site's request class first (its "Bad request" page) and query
strings by registration's check; registration's check on its own is the
unit test at the end.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from pyramid.request import Request

from app.registration.errors import UnreadableForm
from app.registration.resources import SignupResource
from app.registration.views.common import form_body_view

pytestmark = pytest.mark.no_database

FORMS = [
    "/signup",
    "/account/reset",
    "/account/reset/confirm",
    "/account/verify",
    "/account/verify/resend",
]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def browser(make_app):
    """A browser holding registration's CSRF cookie, and the token for its forms."""
    app = make_app()
    token = _CSRF.search(app.get("/signup").text)[1]
    return app, token


def post(app, path: str, content_type: str, body: bytes):
    return app.post(path, body, headers={"Content-Type": content_type}, status="*")


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize("charset", ["x-unknown-42", "utf-16", "latin-1"])
def test_a_foreign_or_unknown_charset_is_a_400_page(browser, path, charset):
    app, token = browser
    body = f"csrf_token={token}&email=a%40example.com".encode()

    answer = post(
        app, path, f"application/x-www-form-urlencoded; charset={charset}", body
    )

    assert answer.status_int == 400
    assert "Something went wrong" not in answer.text


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary="]
)
def test_a_multipart_body_without_a_boundary_is_a_400_page(browser, path, content_type):
    app, _ = browser

    answer = post(app, path, content_type, b"--zz\r\nnot a form\r\n--zz--\r\n")

    assert answer.status_int == 400
    assert "Something went wrong" not in answer.text


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize(
    "body",
    [
        b"email=%ff%fe&password=%c3%28&password_confirm=%c3%28",
        b"email=\xff\xfe&password=\xc3\x28&password_confirm=\xc3\x28",
        b"email=" + b"a" * 1_000_000 + b"&name=" + b"n" * 100_000,
        b"email=&token=" + b"t" * 100_000,
    ],
    ids=["percent-encoded-non-utf8", "raw-non-utf8", "huge-fields", "huge-token"],
)
def test_bad_bytes_and_huge_fields_are_answered_by_the_form(browser, path, body):
    app, token = browser

    answer = post(
        app,
        path,
        "application/x-www-form-urlencoded",
        f"csrf_token={token}&".encode() + body,
    )

    assert answer.status_int == 400  # the form with its errors, or "link not valid"
    assert "Something went wrong" not in answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/signup?callbackUrl=%ff%fe",
        "/signup?callbackUrl=http://%ff",
        "/account/reset/confirm?token=%ff",
        "/account/verify?token=%00%ff",
        "/account/verify/resend?email=%c3%28",
    ],
)
def test_a_query_string_that_is_not_utf8_is_a_400_page(make_app, path):
    answer = make_app().get(path, status="*")

    assert answer.status_int == 400
    assert "Request not readable" in answer.text


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded; charset=utf-16", b"email=x"),
        ("multipart/form-data", b"--zz\r\nnot a form\r\n--zz--\r\n"),
        (
            "multipart/form-data; boundary=zz",
            b'--zz\r\nContent-Disposition: form-data; name="email"\r\n'
            b"Content-Type: text/plain; charset=x-unknown\r\n\r\nx\r\n--zz--\r\n",
        ),
    ],
)
def test_registration_refuses_unreadable_bodies_whatever_the_request_class(
    content_type, body
):
    # WebOb's own request class, not the site's: registration's check alone.
    request = Request.blank("/signup", method="POST", body=body)
    request.content_type = content_type
    info = SimpleNamespace(options={"context": SignupResource})
    view = form_body_view(lambda context, request: "the view ran", info)

    with pytest.raises(UnreadableForm):
        view(None, request)
    assert view(None, Request.blank("/signup")) == "the view ran"


def test_views_of_other_packages_are_left_alone():
    def view(context, request):
        return "untouched"

    assert form_body_view(view, SimpleNamespace(options={"context": None})) is view

"""The site forms' CSRF cookie is ``Secure`` when the request's origin is
https (issue 9, item 9): decided per request, as the core decides for its
own cookies, not once at start-up."""

from __future__ import annotations

import pytest

from tests.functional.support import set_cookie_headers

pytestmark = pytest.mark.no_database


def csrf_cookie(response) -> str:
    [header] = [h for h in set_cookie_headers(response) if h.startswith("csrf_token=")]
    return header


def attributes(header: str) -> set[str]:
    return {part.strip().split("=", 1)[0].lower() for part in header.split(";")[1:]}


@pytest.fixture
def app(make_app):
    # auth.url unset and the host trusted: the origin comes from the request.
    return make_app(auth__url="", auth__trust_host="true", app__env="development")


def test_behind_a_tls_proxy_the_csrf_cookie_is_secure(app):
    response = app.get("/signup", headers={"X-Forwarded-Proto": "https"})

    assert attributes(csrf_cookie(response)) >= {"secure", "httponly", "samesite"}


def test_on_plain_http_the_csrf_cookie_is_not_secure(app):
    response = app.get("/signup")

    assert "secure" not in attributes(csrf_cookie(response))


def test_the_same_app_decides_per_request(app):
    """One app, both kinds of request, in either order."""
    plain = app.get("/signup")
    app.reset()
    proxied = app.get("/signup", headers={"X-Forwarded-Proto": "https"})
    app.reset()
    plain_again = app.get("/signup")

    assert "secure" not in attributes(csrf_cookie(plain))
    assert "secure" in attributes(csrf_cookie(proxied))
    assert "secure" not in attributes(csrf_cookie(plain_again))


def test_an_untrusted_forwarded_proto_does_not_make_it_secure(make_app):
    app = make_app(auth__url="http://localhost", auth__trust_host="false")

    response = app.get("/signup", headers={"X-Forwarded-Proto": "https"})

    assert "secure" not in attributes(csrf_cookie(response))


def test_an_https_auth_url_makes_it_secure(make_app):
    app = make_app(auth__url="https://example.com")

    response = app.get("/signup", headers={"Host": "example.com"})

    assert "secure" in attributes(csrf_cookie(response))


def test_the_token_of_a_secure_cookie_passes_the_check(app):
    page = app.get("/signup", headers={"X-Forwarded-Proto": "https"})
    token = csrf_cookie(page).split(";", 1)[0].split("=", 1)[1]
    app.reset()  # the browser behind the proxy sends the cookie back itself

    response = app.post(
        "/signup",
        {"csrf_token": token, "email": "not-an-email"},
        headers={"X-Forwarded-Proto": "https", "Cookie": f"csrf_token={token}"},
        status=400,
    )

    # The form's own validation answered, not the CSRF check.
    assert "Form expired" not in response.text
    assert "email" in response.text.lower()

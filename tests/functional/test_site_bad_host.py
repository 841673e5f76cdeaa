"""Error pages with a Host header no URL can be built from (``auth.url``
unset, the host trusted).

The layout links to the sign-in or sign-out page, built from the site's
origin. Error pages draw the layout from exception views, where an error
raised while rendering has nobody left to answer it: a bad Host made the 404
and 403 pages, and registration's expired-form page, answer 500. Found by
tests/integration/test_hostile_input.py (``GET //0`` with
``Host: bücher.example``). Now they draw the layout without those links.
"""

from __future__ import annotations

import logging

import pytest

from tests.functional.support import CREDENTIALS, sign_in

pytestmark = pytest.mark.no_database

HOSTS = ["b\xfccher.example", "bad host!", "a@b.example"]


@pytest.fixture
def app(make_app):
    # origin from the request, the thing under test
    return make_app(**CREDENTIALS, auth__url="", app__env="development")


@pytest.fixture
def errors(caplog):
    caplog.set_level(logging.INFO)
    return lambda: [r for r in caplog.records if r.levelno >= logging.ERROR]


def request(app, method: str, path: str, host: str, **kwargs):
    # A trusted X-Forwarded-Host: a bad Host itself is refused at the door in
    # development (app/dev_guard.py), and auth.url is required elsewhere.
    environ = {"HTTP_X_FORWARDED_HOST": host}
    return app.request(
        path, method=method, environ=environ, expect_errors=True, **kwargs
    )


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(
    ("method", "path", "status", "text"),
    [
        ("GET", "/nowhere", 404, "Page not found"),
        ("GET", "//0", 404, "Page not found"),
        ("POST", "/members", 403, "Forbidden"),
        ("POST", "/account/verify/resend", 400, "expired"),
    ],
    ids=["not-found", "double-slash", "forbidden", "registration-expired-form"],
)
def test_error_pages_draw_without_the_links(
    app, errors, method, path, status, text, host
):
    response = request(app, method, path, host)

    assert response.status_int == status
    assert text in response.text
    assert "Sign in" not in response.text
    assert errors() == []


@pytest.mark.database
def test_a_signed_in_persons_error_page_draws_without_the_links(app, errors):
    sign_in(app)

    response = request(app, "GET", "/nowhere", "bad host!")

    assert response.status_int == 404
    assert "Sign out" not in response.text
    assert errors() == []


@pytest.mark.parametrize("path", ["/", "/members"])
def test_pages_that_need_a_link_are_400(app, path):
    assert request(app, "GET", path, "bad host!").status_int == 400


@pytest.mark.database
def test_with_a_good_host_the_error_pages_keep_their_links(app):
    assert "Sign in" in app.get("/nowhere", status=404).text
    sign_in(app)
    assert "Sign out" in app.get("/nowhere", status=404).text

"""The site's own error pages with a Host header no URL can be built from.

The 404 and 403 pages draw the layout, whose links need the site's origin; a
bad Host raised while an exception view rendered, with nobody left to answer
it: a 500. Found by tests/integration/test_hostile_input.py (``GET //0`` with
``Host: bücher.example``)."""

from __future__ import annotations

import logging

import pytest

from tests.functional.support import CREDENTIALS, sign_in


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


HOSTS = ["b\xfccher.example", "bad host!", "a@b.example"]


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("GET", "//0"), ("POST", "/members"), ("GET", "/members")],
    ids=["not-found", "double-slash", "forbidden-post", "forbidden-get"],
)
def test_error_pages_with_a_bad_host_are_400(app, caplog, method, path, host):
    caplog.set_level(logging.INFO)

    response = app.request(
        path, method=method, environ={"HTTP_HOST": host}, expect_errors=True
    )

    assert response.status_int == 400
    assert "Bad request" in response.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_signed_in_persons_403_with_a_bad_host_is_400(app):
    sign_in(app)

    response = app.post(
        "/members", extra_environ={"HTTP_HOST": "bad host!"}, expect_errors=True
    )

    assert response.status_int == 400


def test_error_pages_with_a_good_host_keep_their_status(app):
    assert app.get("/nowhere", status=404).status_int == 404
    assert app.post("/members", status=403).status_int == 403

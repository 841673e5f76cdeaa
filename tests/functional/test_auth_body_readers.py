"""The core reads a POST body however many others read it first.

``development.ini`` includes ``pyramid_debugtoolbar``, whose tween reads
``request.POST`` before any view runs; the core must still see the form.
"""

from __future__ import annotations

import pytest

from tests.functional.support import CREDENTIALS, PASSWORD, PROVIDER, csrf_token

TOOLBAR = {
    "pyramid__includes": "pyramid_debugtoolbar",
    "debugtoolbar__hosts": "127.0.0.1 ::1",
}


def read_post_first(handler, registry):
    """A tween that parses the form before the view, as the toolbar does."""

    def tween(request):
        request.POST  # noqa: B018
        return handler(request)

    return tween


def include_post_reader(config) -> None:
    config.add_tween("tests.functional.test_auth_body_readers.read_post_first")


@pytest.mark.parametrize(
    "includes",
    [
        TOOLBAR,
        {
            "pyramid__includes": "tests.functional.test_auth_body_readers.include_post_reader"
        },
    ],
    ids=["debugtoolbar", "tween-reading-POST"],
)
def test_credentials_sign_in_works_when_the_body_was_read_before(make_app, includes):
    app = make_app(**CREDENTIALS, **includes)
    app.extra_environ = {"REMOTE_ADDR": "127.0.0.1"}
    token = csrf_token(app)

    response = app.post(
        f"/api/auth/callback/{PROVIDER}",
        {"csrfToken": token, "username": "alice", "password": PASSWORD},
    )

    assert response.status_int == 302
    assert response.location == "http://localhost"
    assert "authjs.session-token=" in " ".join(response.headers.getall("Set-Cookie"))

"""A database that cannot be reached is "try again" (503), not ``error=Configuration``.

The core's error mapping turns any unexpected exception into Auth.js's
``Configuration`` redirect; an exception that ``app.models.database_unavailable``
recognises is instead re-raised, after the transaction is doomed, so the
site's 503 exception view answers.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from tests.functional.support import CREDENTIALS, PROVIDER, csrf_token

DOWN = {
    **CREDENTIALS,
    f"auth__provider__{PROVIDER}__authorize": "tests.functional.support:database_down",
}


def sign_in(app, **kw):
    token = csrf_token(app)
    return app.post(
        f"/api/auth/callback/{PROVIDER}",
        {"csrfToken": token, "username": "u", "password": "p"},
        **kw,
    )


def users(dbsession) -> int:
    dbsession.rollback()
    return dbsession.scalar(sa.select(sa.func.count()).select_from(User))


def test_it_is_not_the_configuration_redirect_and_commits_nothing(make_app, dbsession):
    app = make_app(**DOWN)

    response = sign_in(app, expect_errors=True)

    # Whichever exception view the site has answers (5xx), not the core.
    assert response.status_int >= 500
    assert "Location" not in response.headers
    assert users(dbsession) == 0  # the row authorize wrote is not committed


def test_the_sites_503_view_answers_it(make_app, dbsession):
    app = make_app(
        **DOWN, pyramid__includes="tests.functional.support.include_unavailable_view"
    )

    response = sign_in(app, status=503)

    assert response.headers["Retry-After"] == "5"
    assert "error=Configuration" not in response.headers.get("Location", "")
    assert users(dbsession) == 0

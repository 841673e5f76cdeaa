"""What a session update with JSON that JavaScript cannot hold does.

Python's ``json.loads`` reads ``NaN`` and ``Infinity`` (JavaScript's
``JSON.parse`` refuses them), and a lone ``\\ud800`` escape. An application
whose jwt callback copies update data into the token must not let either
break the server or leave a token that Auth.js could not read.
"""

from __future__ import annotations

import json

import pytest

from tests.functional.support import CREDENTIALS, csrf_token, set_cookies, sign_in

SESSION = "authjs.session-token"


def strict_json(text: str):
    """``JSON.parse``: no NaN, no infinities."""

    def refuse(name):
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def app(make_app):
    app = make_app(
        **CREDENTIALS,
        pyramid__includes="tests.functional.support.include_jwt_capture",
    )
    sign_in(app)
    return app


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_number_in_update_data_is_refused_and_the_session_survives(
    app, constant
):
    body = f'{{"csrfToken":"{csrf_token(app)}","data":{{"score":{constant}}}}}'

    response = app.post(
        "/api/auth/session",
        body,
        content_type="application/json",
        expect_errors=True,
    )

    assert response.status_int < 500
    assert constant not in response.text
    session = app.get("/api/auth/session")
    assert strict_json(session.text)["user"]["name"] == "Alice Example"
    # The token read back holds neither the number nor a null in its place.
    assert "score" not in app.app.registry["test.jwt_calls"][-1]["token"]


def test_a_lone_surrogate_in_update_data_round_trips_through_the_token(app):
    body = f'{{"csrfToken":"{csrf_token(app)}","data":{{"nick":"a\\ud800b"}}}}'

    response = app.post("/api/auth/session", body, content_type="application/json")

    assert response.status_int == 200
    assert SESSION in set_cookies(response)
    app.get("/api/auth/session")
    calls = app.app.registry["test.jwt_calls"]
    assert calls[-1]["token"]["nick"] == "a\ud800b"

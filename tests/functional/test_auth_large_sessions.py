"""Sessions too large for one cookie are chunked as Auth.js chunks them (spec §2.1),
and secret rotation (spec §4)."""

from __future__ import annotations

import pytest

from app.auth.jwt import JWTCodec, derive_key, thumbprint
from tests.conftest import TEST_SECRET
from tests.functional.support import (
    CREDENTIALS,
    browser_jar,
    cookie_header,
    cookie_value,
    csrf_token,
    is_deletion,
    session_chunks,
    set_cookie_headers,
    set_cookies,
    sign_in,
)

SESSION = "authjs.session-token"


@pytest.fixture
def app(make_app):
    return make_app(
        **CREDENTIALS, pyramid__includes="tests.functional.support.include_big_claim"
    )


def chunk_names(headers) -> list[str]:
    return [
        h.split("=", 1)[0]
        for h in headers
        if not is_deletion(h) and h.startswith(SESSION)
    ]


def test_large_session_is_set_as_numbered_chunks_of_at_most_3936_chars(app):
    response = sign_in(app)

    names = chunk_names(set_cookie_headers(response))
    assert names == [f"{SESSION}.{i}" for i in range(len(names))]
    assert len(names) >= 2
    values = [set_cookies(response)[n].split(";", 1)[0].split("=", 1)[1] for n in names]
    assert all(len(v) <= 3936 for v in values)
    assert all(len(v) == 3936 for v in values[:-1])
    claims = JWTCodec([TEST_SECRET]).decode("".join(values), salt=SESSION)
    assert len(claims["blob"]) == 7000


def test_chunked_session_reads_back(app):
    sign_in(app)

    response = app.get("/api/auth/session")

    assert response.json["user"]["name"] == "Alice Example"
    assert len(chunk_names(set_cookie_headers(response))) >= 2


def test_chunks_sent_out_of_order_are_reassembled(app):
    jar = browser_jar(sign_in(app))
    chunks = session_chunks(jar)
    shuffled = sorted(chunks.items(), reverse=True)

    response = app.get("/api/auth/session", headers={"Cookie": cookie_header(shuffled)})

    assert response.json["user"]["email"] == "alice@example.com"


def test_missing_chunk_is_no_session_and_clears_the_rest(app):
    chunks = session_chunks(browser_jar(sign_in(app)))
    del chunks[f"{SESSION}.1"]

    response = app.get("/api/auth/session", headers={"Cookie": cookie_header(chunks)})

    assert response.body == b"null"
    deleted = sorted(
        h.split("=", 1)[0] for h in set_cookie_headers(response) if is_deletion(h)
    )
    assert deleted == sorted(chunks)


def test_shrinking_session_deletes_the_stale_chunks(app):
    sign_in(app)
    before = session_chunks({c.name: c.value for c in app.cookiejar})
    assert len(before) >= 2

    response = app.post_json(
        "/api/auth/session", {"csrfToken": csrf_token(app), "data": {"shrink": True}}
    )

    after = session_chunks(browser_jar(response, before))
    assert list(after) == [SESSION]
    deleted = {
        h.split("=", 1)[0] for h in set_cookie_headers(response) if is_deletion(h)
    }
    assert deleted == set(before)
    assert "blob" not in JWTCodec([TEST_SECRET]).decode(after[SESSION], salt=SESSION)


def test_growing_session_deletes_the_unsuffixed_cookie(make_app):
    small = make_app(**CREDENTIALS)
    jar = browser_jar(sign_in(small))
    token = JWTCodec([TEST_SECRET]).decode(
        cookie_value(f"x={jar[SESSION]}"), salt=SESSION
    )
    big = JWTCodec([TEST_SECRET]).encode(
        {**token, "blob": "y" * 6000}, salt=SESSION, max_age=60
    )

    response = small.get(
        "/api/auth/session",
        headers={
            "Cookie": cookie_header(
                [
                    (f"{SESSION}.0", big[:3936]),
                    (f"{SESSION}.1", big[3936:]),
                    (SESSION, "stale"),
                ]
            )
        },
    )

    assert response.json["user"]["name"] == "Alice Example"
    assert is_deletion(set_cookies(response)[SESSION])


# rotation -----------------------------------------------------------------------------
OLD = "old-secret-" + "o" * 40
NEW = "new-secret-" + "n" * 40


def test_cookie_of_the_old_secret_still_reads_after_rotation(make_app):
    before = make_app(**CREDENTIALS, auth__secret=OLD)
    cookie = session_chunks(browser_jar(sign_in(before)))[SESSION]
    after = make_app(**CREDENTIALS, auth__secret=f"{NEW} {OLD}")

    response = after.get("/api/auth/session", headers={"Cookie": f"{SESSION}={cookie}"})

    assert response.json["user"]["name"] == "Alice Example"
    renewed = cookie_value(set_cookies(response)[SESSION])
    assert JWTCodec([NEW]).decode(renewed, salt=SESSION)["sub"] == "1"


def test_reissued_cookie_is_encrypted_with_the_new_secret(make_app):
    before = make_app(**CREDENTIALS, auth__secret=OLD)
    cookie = session_chunks(browser_jar(sign_in(before)))[SESSION]
    after = make_app(**CREDENTIALS, auth__secret=f"{NEW} {OLD}")

    renewed = cookie_value(
        set_cookies(
            after.get("/api/auth/session", headers={"Cookie": f"{SESSION}={cookie}"})
        )[SESSION]
    )

    import base64
    import json

    header = json.loads(base64.urlsafe_b64decode(renewed.split(".")[0] + "=="))
    assert header["kid"] == thumbprint(derive_key(NEW, SESSION))


def test_cookie_of_a_retired_secret_is_signed_out(make_app):
    before = make_app(**CREDENTIALS, auth__secret=OLD)
    cookie = session_chunks(browser_jar(sign_in(before)))[SESSION]
    retired = make_app(**CREDENTIALS, auth__secret=NEW)

    response = retired.get(
        "/api/auth/session", headers={"Cookie": f"{SESSION}={cookie}"}
    )

    assert response.body == b"null"
    assert is_deletion(set_cookies(response)[SESSION])

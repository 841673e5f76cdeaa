"""Auth.js double-submit CSRF tokens (spec §3)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest

from app.auth import csrf
from app.auth.csrf import csrf_state, hash_token, new_token
from app.auth.settings import parse_settings

VECTOR = json.loads(
    (
        Path(__file__).resolve().parent.parent / "data" / "authjs-vectors.json"
    ).read_text()
)["csrf"]
SECRET = VECTOR["secret"]
TOKEN = VECTOR["token"]
COOKIE = VECTOR["cookie_value"]


# the cookie value ---------------------------------------------------------------------
def test_vector_cookie_hash_is_sha256_of_token_and_secret():
    token, digest = COOKIE.split("|")

    assert token == TOKEN
    assert hash_token(TOKEN, SECRET) == digest
    assert digest == hashlib.sha256((TOKEN + SECRET).encode()).hexdigest()


def test_new_token_is_64_lowercase_hex_chars_and_random():
    tokens = {new_token() for _ in range(20)}

    assert len(tokens) == 20
    assert all(re.fullmatch(r"[0-9a-f]{64}", t) for t in tokens)


def test_request_without_cookie_gets_a_new_verifiable_cookie():
    state = csrf_state(None, SECRET, body_token=None, is_post=False)

    token, digest = state.cookie_value.split("|")
    assert token == state.token
    assert digest == hash_token(token, SECRET)
    assert state.verified is False


def test_several_secrets_hash_with_the_comma_joined_list_as_authjs_stringifies_it():
    settings = parse_settings(
        {"auth.secret": "s" * 32 + " " + "t" * 32, "auth.url": "http://localhost"},
        environ={},
    )

    assert settings.csrf_secret == "s" * 32 + "," + "t" * 32
    state = csrf_state(None, settings.csrf_secret, body_token=None, is_post=False)
    assert (
        state.cookie_value.split("|")[1]
        == hashlib.sha256(
            (state.token + "s" * 32 + "," + "t" * 32).encode()
        ).hexdigest()
    )


# verification -------------------------------------------------------------------------
def test_post_with_vector_cookie_and_matching_body_token_is_verified():
    state = csrf_state(COOKIE, SECRET, body_token=TOKEN, is_post=True)

    assert state.verified is True
    assert state.token == TOKEN
    assert state.cookie_value is None  # the valid cookie is kept, not re-issued


def test_get_with_a_valid_cookie_reuses_the_token_but_verifies_nothing():
    state = csrf_state(COOKIE, SECRET, body_token=TOKEN, is_post=False)

    assert state.token == TOKEN
    assert state.cookie_value is None
    assert state.verified is False


@pytest.mark.parametrize(
    "body_token",
    [
        None,
        "",
        TOKEN[:-1],
        TOKEN + "a",
        TOKEN.upper(),
        "b" * 64,
        COOKIE,
        " " + TOKEN,
        42,
        ["a"],
        {"csrfToken": TOKEN},
        "\ud800" * 64,
        "é" * 64,
    ],
    ids=[
        "missing",
        "empty",
        "short",
        "long",
        "upper",
        "other",
        "cookie-value",
        "space",
        "number",
        "list",
        "object",
        "surrogates",
        "non-ascii",
    ],
)
def test_post_with_a_wrong_body_token_is_not_verified(body_token):
    state = csrf_state(COOKIE, SECRET, body_token=body_token, is_post=True)

    assert state.verified is False
    assert state.token == TOKEN  # the cookie itself is still good: no new one
    assert state.cookie_value is None


def test_body_token_is_compared_in_constant_time(monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(csrf.hmac, "compare_digest", spy)
    wrong = "0" * 64

    state = csrf_state(COOKIE, SECRET, body_token=wrong, is_post=True)

    assert state.verified is False
    assert any(wrong.encode() in pair for pair in compared), compared
    assert any(hash_token(TOKEN, SECRET).encode() in pair for pair in compared)


def test_cookie_of_another_secret_is_replaced_and_never_verifies():
    state = csrf_state(
        COOKIE, "another-secret-0123456789abcdef", body_token=TOKEN, is_post=True
    )

    assert state.verified is False
    assert state.token != TOKEN
    assert state.cookie_value is not None


@pytest.mark.parametrize(
    "cookie",
    [
        "",
        "|",
        "no-separator",
        TOKEN,
        TOKEN + "|",
        "|" + COOKIE.split("|")[1],
        TOKEN + "|" + "0" * 64,
        TOKEN + "|" + COOKIE.split("|")[1].upper(),
        COOKIE + "|extra",
        COOKIE + " ",
        "é|é",
        "\ud800|\udfff",
        "x" * 10000 + "|" + "y" * 64,
    ],
    ids=[
        "empty",
        "bar",
        "no-bar",
        "token-only",
        "no-hash",
        "hash-only",
        "zero-hash",
        "upper-hash",
        "extra-part",
        "trailing-space",
        "non-ascii",
        "surrogates",
        "huge",
    ],
)
def test_malformed_or_forged_cookie_gets_a_fresh_token(cookie):
    state = csrf_state(cookie, SECRET, body_token=TOKEN, is_post=True)

    assert state.verified is False
    assert state.token != TOKEN
    assert state.cookie_value == f"{state.token}|{hash_token(state.token, SECRET)}"


def test_forged_cookie_with_attacker_token_and_its_plain_sha256_is_refused():
    # Without the secret an attacker cannot compute the hash of his own token.
    token = "c" * 64
    forged = f"{token}|{hashlib.sha256(token.encode()).hexdigest()}"

    state = csrf_state(forged, SECRET, body_token=token, is_post=True)

    assert state.verified is False

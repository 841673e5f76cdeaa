"""Magic-link addresses are normalised as Auth.js does, and refused when unsafe."""

from __future__ import annotations

import hashlib

import pytest

from app.auth.providers.email import InvalidEmail, hash_token, normalize_email


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("Jane@Example.COM", "jane@example.com"),
        ("  jane@example.com\t", "jane@example.com"),
        (
            "jane@example.com,evil.example",
            "jane@example.com",
        ),  # Auth.js cuts at the first ","
        (
            "ｊａｎｅ@ｅｘａｍｐｌｅ.com",
            "jane@example.com",
        ),  # NFKC folds full-width letters
        ("first.last+tag@sub.example.org", "first.last+tag@sub.example.org"),
    ],
)
def test_addresses_are_normalised_like_authjs(raw, normalised):
    assert normalize_email(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        None,
        42,
        "",
        "   ",
        "jane",
        "jane@@example.com",
        "a@b@c",
        '"jane"@example.com',
        "@example.com",
        "jane@",
        "jane@,example.com",
        "ja ne@example.com",
        "jane@example.com\r\nBcc: x@evil.example",
        "jane\x00@example.com",
        "x" * 250 + "@example.com",
    ],
)
def test_unusable_addresses_are_refused(raw):
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


def test_tokens_are_stored_as_sha256_of_token_and_secret():
    assert hash_token("abc", "s3cret") == hashlib.sha256(b"abcs3cret").hexdigest()


def test_stored_token_matches_the_authjs_vector():
    import json
    from pathlib import Path

    vectors = json.loads(
        (
            Path(__file__).resolve().parent.parent / "data" / "authjs-vectors.json"
        ).read_text()
    )
    vector = vectors["verification_token"]

    assert hash_token(vector["raw_token"], vector["secret"]) == vector["stored_token"]

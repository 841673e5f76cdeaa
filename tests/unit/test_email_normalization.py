"""Magic-link addresses are normalised as Auth.js does, and refused when unsafe."""

from __future__ import annotations

import hashlib

import pytest

from app.auth import InvalidEmail as PublicInvalidEmail
from app.auth import ascii_email
from app.auth.providers.email import (
    NON_ASCII_LOCAL_PART,
    InvalidEmail,
    hash_token,
    normalize_email,
)


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
        # beyond Auth.js: the domain in its IDNA 2008 form (mail has no SMTPUTF8)
        ("bob@Bücher.example", "bob@xn--bcher-kva.example"),
        ("x@пример.рф", "x@xn--e1afmkfd.xn--p1ai"),
        ("x@faß.de", "x@xn--fa-hia.de"),  # IDNA 2003 (Python's codec) made it fass.de
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
    ],
)
def test_addresses_are_normalised_like_authjs(raw, normalised):
    assert normalize_email(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    ["Élodie@example.com", "élodie@example.com", "İ@example.com", "ß@example.com"],
)
def test_a_local_part_beyond_ascii_is_refused_saying_why(raw):
    with pytest.raises(InvalidEmail) as refused:
        normalize_email(raw)

    assert str(refused.value) == NON_ASCII_LOCAL_PART
    assert "before the @" in NON_ASCII_LOCAL_PART


@pytest.mark.parametrize(
    "raw, stored",
    [
        # the local part and an ASCII domain as typed (registration keeps case)
        ("Jane.Doe@Example.COM", "Jane.Doe@Example.COM"),
        ("Jane.Doe@Bücher.Example", "Jane.Doe@xn--bcher-kva.example"),
        ("x@ｅｘａｍｐｌｅ.com", "x@example.com"),  # UTS 46 maps full-width letters
    ],
)
def test_ascii_email_converts_only_the_domain(raw, stored):
    assert ascii_email(raw) == stored


@pytest.mark.parametrize(
    "raw", ["Élodie@example.com", "x@☃.net", "x@xn--bcher-kva.exämple-.com", "x"]
)
def test_ascii_email_refuses_what_has_no_ascii_form(raw):
    assert PublicInvalidEmail is InvalidEmail
    with pytest.raises(InvalidEmail):
        ascii_email(raw)


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

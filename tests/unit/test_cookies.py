"""Cookie names, ``Set-Cookie`` serialisation, session-token chunking (spec §0, §2)."""

from __future__ import annotations

import datetime as dt
import string

import pytest

from app.auth.cookies import (
    CHUNK_SIZE,
    MAX_CHUNKS,
    PLAIN_NAMES,
    SECURE_NAMES,
    SessionStore,
    cookie_names,
    deletion,
    read,
    serialize,
)

NAME = "authjs.session-token"
EXPIRES = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


def encode_uri_component(text: str) -> str:
    """ECMAScript encodeURIComponent: all but A-Z a-z 0-9 - _ . ! ~ * ' ( ) escaped."""
    keep = set(string.ascii_letters + string.digits + "-_.!~*'()")
    return "".join(
        ch if ch in keep else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        for ch in text
    )


def browser(headers: list[str], jar: dict[str, str] | None = None) -> dict[str, str]:
    """Apply ``Set-Cookie`` headers in order, as a browser does (Max-Age=0 deletes)."""
    jar = dict(jar or {})
    for header in headers:
        pair, *attrs = header.split("; ")
        name, _, value = pair.partition("=")
        if "Max-Age=0" in attrs:
            jar.pop(name, None)
        else:
            jar[name] = value
    return jar


def names_set(headers: list[str]) -> list[str]:
    return [h.split("=", 1)[0] for h in headers]


# names --------------------------------------------------------------------------------
def test_plain_names_are_authjs_names():
    assert cookie_names(False) == PLAIN_NAMES
    assert PLAIN_NAMES.session_token == "authjs.session-token"
    assert PLAIN_NAMES.callback_url == "authjs.callback-url"
    assert PLAIN_NAMES.csrf_token == "authjs.csrf-token"
    assert PLAIN_NAMES.pkce_code_verifier == "authjs.pkce.code_verifier"
    assert PLAIN_NAMES.state == "authjs.state"
    assert PLAIN_NAMES.nonce == "authjs.nonce"


def test_secure_names_use_secure_prefix_and_host_prefix_for_csrf():
    assert cookie_names(True) == SECURE_NAMES
    assert SECURE_NAMES.session_token == "__Secure-authjs.session-token"
    assert SECURE_NAMES.callback_url == "__Secure-authjs.callback-url"
    assert SECURE_NAMES.csrf_token == "__Host-authjs.csrf-token"
    assert SECURE_NAMES.pkce_code_verifier == "__Secure-authjs.pkce.code_verifier"
    assert SECURE_NAMES.state == "__Secure-authjs.state"
    assert SECURE_NAMES.nonce == "__Secure-authjs.nonce"


# serialisation ------------------------------------------------------------------------
def test_session_cookie_is_serialised_in_authjs_attribute_order():
    header = serialize(NAME, "abc", secure=False, expires=EXPIRES)

    assert header == (
        "authjs.session-token=abc; Path=/; Expires=Thu, 01 Jan 2099 00:00:00 GMT; "
        "HttpOnly; SameSite=Lax"
    )


def test_all_attributes_in_order_max_age_path_expires_httponly_secure_samesite():
    header = serialize(
        "__Secure-authjs.state", "v", secure=True, max_age=900, expires=EXPIRES
    )

    assert header == (
        "__Secure-authjs.state=v; Max-Age=900; Path=/; "
        "Expires=Thu, 01 Jan 2099 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
    )


def test_csrf_cookie_value_bar_is_percent_encoded():
    header = serialize("authjs.csrf-token", "tok|hash", secure=False)

    assert header == "authjs.csrf-token=tok%7Chash; Path=/; HttpOnly; SameSite=Lax"


def test_callback_url_is_percent_encoded_like_encode_uri_component():
    url = "http://localhost:3000/dash?x=1&y=a b#frag"

    header = serialize("authjs.callback-url", url, secure=False)

    assert header.startswith(
        "authjs.callback-url=http%3A%2F%2Flocalhost%3A3000%2Fdash%3Fx%3D1%26y%3Da%20b%23frag;"
    )


@pytest.mark.parametrize(
    "value",
    [
        string.printable,
        "".join(chr(c) for c in range(32, 127)),
        'Zoë/山田;=,"\\',
        "\U0001f600",
        "-_.!~*'()",
    ],
    ids=["printable", "ascii", "unicode-and-separators", "emoji", "unreserved"],
)
def test_values_are_encoded_exactly_as_encode_uri_component(value):
    header = serialize("n", value, secure=False)

    assert header.split("; ")[0] == "n=" + encode_uri_component(value)


def test_expires_is_converted_to_gmt():
    cest = dt.timezone(dt.timedelta(hours=2))

    header = serialize(
        NAME, "v", secure=False, expires=dt.datetime(2099, 1, 1, 2, 0, tzinfo=cest)
    )

    assert "Expires=Thu, 01 Jan 2099 00:00:00 GMT" in header


def test_deletion_is_empty_value_with_max_age_zero():
    assert deletion(NAME, secure=False) == (
        "authjs.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    )
    assert deletion("__Secure-authjs.session-token", secure=True) == (
        "__Secure-authjs.session-token=; Max-Age=0; Path=/; HttpOnly; Secure; "
        "SameSite=Lax"
    )


def test_no_cookie_has_a_domain():
    assert "Domain" not in serialize(NAME, "v", secure=True, max_age=1, expires=EXPIRES)


# reading ------------------------------------------------------------------------------
def test_read_percent_decodes_values():
    assert read({"authjs.csrf-token": "tok%7Chash"}, "authjs.csrf-token") == "tok|hash"
    assert read({"c": "http%3A%2F%2Fx%2F%C3%A9"}, "c") == "http://x/é"


def test_read_of_an_absent_or_empty_cookie_is_none():
    assert read({}, "c") is None
    assert read({"c": ""}, "c") is None


def test_serialise_then_read_round_trips():
    value = "http://localhost/a?b=c|d é"
    header = serialize("c", value, secure=False)

    assert read({"c": header.split("; ")[0].split("=", 1)[1]}, "c") == value


# chunking: writing --------------------------------------------------------------------
def test_chunk_size_is_4096_minus_160():
    assert CHUNK_SIZE == 3936


def test_value_of_exactly_chunk_size_is_one_unsuffixed_cookie():
    headers = SessionStore(NAME, {}, secure=False).set(
        "a" * CHUNK_SIZE, expires=EXPIRES
    )

    assert names_set(headers) == [NAME]
    assert browser(headers) == {NAME: "a" * CHUNK_SIZE}


def test_value_one_longer_than_chunk_size_is_split_into_dot_0_and_dot_1():
    value = "a" * CHUNK_SIZE + "b"

    headers = SessionStore(NAME, {}, secure=False).set(value, expires=EXPIRES)

    assert names_set(headers) == [f"{NAME}.0", f"{NAME}.1"]
    assert browser(headers) == {f"{NAME}.0": "a" * CHUNK_SIZE, f"{NAME}.1": "b"}


def test_long_value_is_split_in_consecutive_slices_of_3936():
    value = "".join(string.ascii_letters[i % 52] for i in range(3 * CHUNK_SIZE + 100))

    headers = SessionStore(NAME, {}, secure=False).set(value, expires=EXPIRES)
    jar = browser(headers)

    assert list(jar) == [f"{NAME}.{i}" for i in range(4)]
    assert [len(v) for v in jar.values()] == [CHUNK_SIZE] * 3 + [100]
    assert "".join(jar.values()) == value


def test_every_chunk_carries_expires_and_the_session_attributes():
    headers = SessionStore(NAME, {}, secure=False).set("x" * 5000, expires=EXPIRES)

    for header in headers:
        assert header.endswith(
            "; Path=/; Expires=Thu, 01 Jan 2099 00:00:00 GMT; HttpOnly; SameSite=Lax"
        )
        assert "Max-Age" not in header


def test_secure_store_chunks_are_secure():
    name = "__Secure-authjs.session-token"
    headers = SessionStore(name, {}, secure=True).set("x" * 5000, expires=EXPIRES)

    assert names_set(headers) == [f"{name}.0", f"{name}.1"]
    assert all("; Secure; SameSite=Lax" in h for h in headers)


def test_shorter_value_deletes_the_chunks_it_no_longer_uses():
    request = {
        f"{NAME}.0": "a" * CHUNK_SIZE,
        f"{NAME}.1": "b" * CHUNK_SIZE,
        f"{NAME}.2": "c",
    }

    headers = SessionStore(NAME, request, secure=False).set("short", expires=EXPIRES)

    deleted = [h.split("=", 1)[0] for h in headers if "Max-Age=0" in h]
    assert sorted(deleted) == [f"{NAME}.0", f"{NAME}.1", f"{NAME}.2"]
    assert browser(headers, request) == {NAME: "short"}


def test_fewer_chunks_delete_the_highest_stale_chunk():
    request = {
        f"{NAME}.0": "a" * CHUNK_SIZE,
        f"{NAME}.1": "b" * CHUNK_SIZE,
        f"{NAME}.2": "c",
    }
    value = "z" * (CHUNK_SIZE + 1)

    headers = SessionStore(NAME, request, secure=False).set(value, expires=EXPIRES)

    assert browser(headers, request) == {
        f"{NAME}.0": "z" * CHUNK_SIZE,
        f"{NAME}.1": "z",
    }
    assert SessionStore(NAME, browser(headers, request), secure=False).value == value


def test_chunked_value_replacing_a_single_cookie_deletes_the_unsuffixed_one():
    request = {NAME: "old"}
    value = "n" * (CHUNK_SIZE + 5)

    headers = SessionStore(NAME, request, secure=False).set(value, expires=EXPIRES)

    assert f"{NAME}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax" in headers
    assert browser(headers, request) == {
        f"{NAME}.0": "n" * CHUNK_SIZE,
        f"{NAME}.1": "nnnnn",
    }


def test_same_number_of_chunks_replaces_them_without_leaving_a_deletion_last():
    request = {f"{NAME}.0": "a" * CHUNK_SIZE, f"{NAME}.1": "b"}
    value = "c" * (CHUNK_SIZE + 2)

    headers = SessionStore(NAME, request, secure=False).set(value, expires=EXPIRES)

    assert browser(headers, request) == {
        f"{NAME}.0": "c" * CHUNK_SIZE,
        f"{NAME}.1": "cc",
    }


def test_values_are_percent_encoded_per_chunk_and_decoded_after_joining():
    value = "é" * 3000  # 6000 bytes, 18000 characters on the wire

    headers = SessionStore(NAME, {}, secure=False).set(value, expires=EXPIRES)

    assert SessionStore(NAME, browser(headers), secure=False).value == value


# chunking: reading --------------------------------------------------------------------
def test_chunks_sent_out_of_order_are_joined_in_numeric_order():
    cookies = {f"{NAME}.2": "C", f"{NAME}.0": "A", "other": "x", f"{NAME}.1": "B"}

    assert SessionStore(NAME, cookies, secure=False).value == "ABC"


def test_chunk_ten_sorts_after_chunk_nine():
    cookies = {f"{NAME}.{i}": str(i) + "|" for i in reversed(range(11))}

    value = SessionStore(NAME, cookies, secure=False).value

    assert value == "".join(f"{i}|" for i in range(11))


def test_single_unsuffixed_cookie_is_read_as_is():
    assert SessionStore(NAME, {NAME: "tok"}, secure=False).value == "tok"


def test_unrelated_and_empty_cookies_are_ignored():
    cookies = {
        "authjs.session-tokenx": "no",
        "authjs.session-token.x": "no",
        f"{NAME}.0": "",
        "xauthjs.session-token": "no",
    }

    store = SessionStore(NAME, cookies, secure=False)

    assert store.value is None
    assert store.present == {}


@pytest.mark.parametrize(
    "suffix", ["", "1234", "-1", "+1", " 1", "1 ", "\u00b2", "\u0661", "x1", "1.2"]
)
def test_only_one_to_three_ascii_digits_make_a_chunk_name(suffix):
    cookies = {f"{NAME}.{suffix}": "no", f"{NAME}.1": "B", f"{NAME}.0": "A"}

    store = SessionStore(NAME, cookies, secure=False)

    assert store.value == "AB"
    assert sorted(store.present) == [f"{NAME}.0", f"{NAME}.1"]


def test_chunks_win_over_an_unsuffixed_cookie_sent_beside_them():
    cookies = {NAME: "old", f"{NAME}.0": "A", f"{NAME}.1": "B"}

    assert SessionStore(NAME, cookies, secure=False).value == "AB"


def test_no_cookie_means_no_value_and_nothing_to_clear():
    store = SessionStore(NAME, {}, secure=False)

    assert store.value is None
    assert store.clear() == []


def test_too_many_chunks_is_not_a_session():
    cookies = {f"{NAME}.{i}": "x" for i in range(MAX_CHUNKS + 4)}

    store = SessionStore(NAME, cookies, secure=False)

    assert store.value is None
    assert len(store.clear()) == MAX_CHUNKS + 4


def test_chunk_with_invalid_percent_encoding_is_not_a_session():
    assert SessionStore(NAME, {NAME: "%FF%FE"}, secure=False).value is None


# clearing -----------------------------------------------------------------------------
def test_clear_deletes_every_chunk_present():
    cookies = {f"{NAME}.0": "a", f"{NAME}.1": "b", NAME: "c", "other": "d"}

    headers = SessionStore(NAME, cookies, secure=False).clear()

    assert sorted(names_set(headers)) == [NAME, f"{NAME}.0", f"{NAME}.1"]
    assert all(
        h.endswith("=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax") for h in headers
    )
    assert browser(headers, cookies) == {"other": "d"}

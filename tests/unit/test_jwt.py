"""The session JWE codec against Auth.js itself (spec §4, §12).

The vectors in ``tests/data/authjs-vectors.json`` were minted by
``@auth/core`` 0.41.3's ``jwt.encode``; decoding them here proves the key
derivation, the ``kid`` thumbprint and the A256CBC-HS512 decryption match.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import uuid
from pathlib import Path

import pytest
from joserfc import jwe
from joserfc.jwk import OctKey

from app.auth import jwt as jwt_module
from app.auth.errors import JWTError
from app.auth.jwt import (
    CLOCK_TOLERANCE,
    MAX_DERIVED_SALTS,
    TOKEN_CACHE_MAX_LENGTH,
    TOKEN_CACHE_SIZE,
    JWTCodec,
    b64url,
    b64url_decode,
    decode,
    derive_key,
    encode,
    thumbprint,
)

VECTORS = json.loads(
    (
        Path(__file__).resolve().parent.parent / "data" / "authjs-vectors.json"
    ).read_text()
)
JWT_VECTORS = VECTORS["vectors"]
BASIC, SECURE, ROTATION = JWT_VECTORS
SALT = "authjs.session-token"
SECRET = "unit-test-secret-0123456789abcdef0123"
NOW = 1_800_000_000


def by_name(vector: dict) -> str:
    return vector["name"]


def _parts(token: str) -> list[str]:
    return token.split(".")


def _header_of(token: str) -> dict:
    return json.loads(b64url_decode(_parts(token)[0]))


def _with_part(token: str, index: int, value: str) -> str:
    parts = _parts(token)
    parts[index] = value
    return ".".join(parts)


def _flip_last_char(text: str) -> str:
    # Changing the first character changes the leading bits, which every
    # base64url decoder keeps (the last character may only carry padding bits).
    return ("B" if text[0] != "B" else "C") + text[1:]


def _raw_jwe(header: dict, payload: dict, key: bytes) -> str:
    """A JWE made directly with joserfc, bypassing the codec under test."""
    registry = jwe.JWERegistry(algorithms=["dir", header["enc"]])
    return jwe.encrypt_compact(
        header, json.dumps(payload).encode(), OctKey.import_key(key), registry=registry
    )


# Auth.js-minted tokens -------------------------------------------------------------
@pytest.mark.parametrize("vector", JWT_VECTORS, ids=by_name)
def test_authjs_token_decodes_to_its_expected_payload(vector):
    secrets = vector.get("decrypt_with_secrets", [vector["secret"]])

    payload = JWTCodec(secrets).decode(vector["token"], salt=vector["salt"])

    assert payload == vector["expected_payload"]


@pytest.mark.parametrize("vector", JWT_VECTORS, ids=by_name)
def test_derived_key_matches_authjs_hkdf(vector):
    key = derive_key(vector["secret"], vector["salt"])

    assert key.hex() == vector["derived_key_hex"]
    assert len(key) == 64


@pytest.mark.parametrize("vector", JWT_VECTORS, ids=by_name)
def test_kid_is_the_sha512_thumbprint_of_the_derived_key(vector):
    key = bytes.fromhex(vector["derived_key_hex"])

    assert thumbprint(key) == vector["protected_header"]["kid"]
    assert _header_of(vector["token"]) == vector["protected_header"]


def test_module_level_decode_is_authjs_jwt_decode():
    assert (
        decode(BASIC["token"], BASIC["secret"], BASIC["salt"])
        == BASIC["expected_payload"]
    )


# rotation ---------------------------------------------------------------------------
def test_token_of_the_old_secret_decrypts_when_old_secret_is_still_listed():
    new, old = ROTATION["decrypt_with_secrets"]

    payload = JWTCodec([new, old]).decode(ROTATION["token"], salt=ROTATION["salt"])

    assert payload["sub"] == "c-3"


def test_token_of_a_retired_secret_no_longer_decrypts():
    new, _ = ROTATION["decrypt_with_secrets"]

    with pytest.raises(JWTError):
        JWTCodec([new]).decode(ROTATION["token"], salt=ROTATION["salt"])


def test_first_secret_encrypts_and_every_secret_decrypts():
    new, old = "n" * 40, "o" * 40
    token = JWTCodec([new, old]).encode({"sub": "1"}, salt=SALT, max_age=60)

    assert _header_of(token)["kid"] == thumbprint(derive_key(new, SALT))
    assert JWTCodec([new]).decode(token, salt=SALT)["sub"] == "1"
    assert JWTCodec([old, new]).decode(token, salt=SALT)["sub"] == "1"
    with pytest.raises(JWTError):
        JWTCodec([old]).decode(token, salt=SALT)


def test_token_without_kid_is_tried_with_the_first_secret_only():
    new, old = "n" * 40, "o" * 40
    token = _raw_jwe(
        {"alg": "dir", "enc": "A256CBC-HS512"}, {"sub": "x"}, derive_key(old, SALT)
    )

    assert JWTCodec([old, new]).decode(token, salt=SALT)["sub"] == "x"
    with pytest.raises(JWTError):
        JWTCodec([new, old]).decode(token, salt=SALT)


# the salt is the cookie name ---------------------------------------------------------
def test_wrong_salt_fails():
    with pytest.raises(JWTError):
        JWTCodec([BASIC["secret"]]).decode(
            BASIC["token"], salt="__Secure-authjs.session-token"
        )


def test_secure_cookie_vector_needs_the_secure_cookie_name_as_salt():
    with pytest.raises(JWTError):
        JWTCodec([SECURE["secret"]]).decode(
            SECURE["token"], salt="authjs.session-token"
        )


def test_wrong_secret_fails():
    with pytest.raises(JWTError):
        JWTCodec(["another-secret-0123456789abcdef0123"]).decode(
            BASIC["token"], salt=SALT
        )


# tampering ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("part", "name"), [(2, "iv"), (3, "ciphertext"), (4, "tag")], ids=lambda v: str(v)
)
def test_tampered_part_fails(part, name):
    token = _with_part(
        BASIC["token"], part, _flip_last_char(_parts(BASIC["token"])[part])
    )

    with pytest.raises(JWTError):
        JWTCodec([BASIC["secret"]]).decode(token, salt=SALT)


def test_truncated_tag_fails():
    tag = _parts(BASIC["token"])[4]
    token = _with_part(BASIC["token"], 4, tag[:-4])

    with pytest.raises(JWTError):
        JWTCodec([BASIC["secret"]]).decode(token, salt=SALT)


def test_tampered_protected_header_fails_even_when_it_still_names_the_right_key():
    # The header is the AAD: adding a member (same alg/enc/kid) breaks the tag.
    header = dict(BASIC["protected_header"], typ="JWT")
    token = _with_part(BASIC["token"], 0, b64url(json.dumps(header).encode()))

    with pytest.raises(JWTError):
        JWTCodec([BASIC["secret"]]).decode(token, salt=SALT)


def test_kid_of_an_unknown_key_fails():
    header = dict(BASIC["protected_header"], kid="unknown")
    token = _with_part(BASIC["token"], 0, b64url(json.dumps(header).encode()))

    with pytest.raises(JWTError):
        JWTCodec([BASIC["secret"]]).decode(token, salt=SALT)


def test_non_empty_encrypted_key_part_fails():
    token = _with_part(BASIC["token"], 1, b64url(b"\x00" * 64))

    with pytest.raises(JWTError):
        JWTCodec([BASIC["secret"]]).decode(token, salt=SALT)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "a.b.c",
        "a.b.c.d.e",
        "....",
        "a.b.c.d.e.f",
        "eyJ.." + "x" * 10 + ".y.z",
        "\u00e9\u00e9.\u00e9.\u00e9.\u00e9.\u00e9",
        "x" * (65 * 1024),
    ],
    ids=[
        "empty",
        "word",
        "three-parts",
        "garbage-parts",
        "dots",
        "six-parts",
        "bad-header",
        "non-ascii",
        "oversized",
    ],
)
def test_malformed_token_fails_with_jwt_error(token):
    with pytest.raises(JWTError):
        JWTCodec([SECRET]).decode(token, salt=SALT)


@pytest.mark.parametrize(
    "header",
    [
        ["not", "an", "object"],
        {"alg": "dir", "enc": ["A256GCM"]},
        {"alg": "dir", "enc": {"A256GCM": 1}},
        {"alg": ["dir"], "enc": "A256CBC-HS512"},
        {"alg": "dir", "enc": "A256CBC-HS512", "kid": ["x"]},
        {"alg": "dir", "enc": "A256CBC-HS512", "kid": {"x": 1}},
        {"alg": "dir", "enc": "A256CBC-HS512", "crit": ["exp"]},
        {"alg": "dir", "enc": "A256CBC-HS512", "zip": "DEF"},
    ],
    ids=[
        "array",
        "enc-list",
        "enc-object",
        "alg-list",
        "kid-list",
        "kid-object",
        "crit",
        "zip",
    ],
)
def test_protected_header_of_the_wrong_shape_fails_with_jwt_error(header):
    token = _with_part(BASIC["token"], 0, b64url(json.dumps(header).encode()))

    with pytest.raises(JWTError):
        JWTCodec([BASIC["secret"]]).decode(token, salt=SALT)


# expiry and clock tolerance -----------------------------------------------------------
def _token_expiring_at(exp: int) -> str:
    return JWTCodec([SECRET]).encode({"sub": "1"}, salt=SALT, max_age=60, now=exp - 60)


def test_clock_tolerance_is_fifteen_seconds():
    assert CLOCK_TOLERANCE == 15


def test_token_expired_by_less_than_the_tolerance_still_decodes():
    token = _token_expiring_at(NOW)

    assert JWTCodec([SECRET]).decode(token, salt=SALT, now=NOW + 14)["sub"] == "1"


def test_token_expired_beyond_the_tolerance_fails():
    token = _token_expiring_at(NOW)

    with pytest.raises(JWTError, match="expired"):
        JWTCodec([SECRET]).decode(token, salt=SALT, now=NOW + 15)
    with pytest.raises(JWTError, match="expired"):
        JWTCodec([SECRET]).decode(token, salt=SALT, now=NOW + 3600)


def test_token_not_yet_valid_beyond_the_tolerance_fails():
    key = derive_key(SECRET, SALT)
    header = {"alg": "dir", "enc": "A256CBC-HS512", "kid": thumbprint(key)}
    token = _raw_jwe(header, {"sub": "1", "nbf": NOW + 16, "exp": NOW + 600}, key)

    with pytest.raises(JWTError):
        JWTCodec([SECRET]).decode(token, salt=SALT, now=NOW)
    assert JWTCodec([SECRET]).decode(token, salt=SALT, now=NOW + 1)["sub"] == "1"


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_time_claim_that_is_not_a_number_fails(claim):
    key = derive_key(SECRET, SALT)
    header = {"alg": "dir", "enc": "A256CBC-HS512", "kid": thumbprint(key)}
    token = _raw_jwe(header, {"sub": "1", claim: "tomorrow"}, key)

    with pytest.raises(JWTError):
        JWTCodec([SECRET]).decode(token, salt=SALT, now=NOW)


def test_payload_that_is_not_a_json_object_fails():
    key = derive_key(SECRET, SALT)
    header = {"alg": "dir", "enc": "A256CBC-HS512", "kid": thumbprint(key)}
    registry = jwe.JWERegistry(algorithms=["dir", "A256CBC-HS512"])
    token = jwe.encrypt_compact(
        header, b"[1, 2]", OctKey.import_key(key), registry=registry
    )

    with pytest.raises(JWTError):
        JWTCodec([SECRET]).decode(token, salt=SALT)


# algorithms --------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["A256KW", "RSA-OAEP", "none", "HS256"])
def test_unsupported_alg_fails(alg):
    header = dict(BASIC["protected_header"], alg=alg)
    token = _with_part(BASIC["token"], 0, b64url(json.dumps(header).encode()))

    with pytest.raises(JWTError, match="alg"):
        JWTCodec([BASIC["secret"]]).decode(token, salt=SALT)


@pytest.mark.parametrize(
    ("enc", "size"), [("A128GCM", 16), ("A128CBC-HS256", 32), ("A192GCM", 24)]
)
def test_unsupported_enc_fails_even_with_a_correct_key(enc, size):
    key = derive_key(SECRET, SALT, size)
    token = _raw_jwe(
        {"alg": "dir", "enc": enc, "kid": thumbprint(key)}, {"sub": "1"}, key
    )

    with pytest.raises(JWTError, match="enc"):
        JWTCodec([SECRET]).decode(token, salt=SALT)


def test_a256gcm_token_decodes_with_a_32_byte_key_and_sha256_kid():
    key = derive_key(SECRET, SALT, 32)
    members = json.dumps({"k": b64url(key), "kty": "oct"}, separators=(",", ":"))
    kid = b64url(hashlib.sha256(members.encode()).digest())
    assert thumbprint(key) == kid
    token = _raw_jwe(
        {"alg": "dir", "enc": "A256GCM", "kid": kid},
        {"sub": "gcm", "exp": NOW + 60},
        key,
    )

    assert JWTCodec([SECRET]).decode(token, salt=SALT, now=NOW) == {
        "sub": "gcm",
        "exp": NOW + 60,
    }


def test_a256gcm_token_with_rotation_picks_the_secret_by_kid():
    old = "o" * 40
    key = derive_key(old, SALT, 32)
    token = _raw_jwe(
        {"alg": "dir", "enc": "A256GCM", "kid": thumbprint(key)}, {"sub": "o"}, key
    )

    assert JWTCodec([SECRET, old]).decode(token, salt=SALT)["sub"] == "o"
    with pytest.raises(JWTError):
        JWTCodec([SECRET]).decode(token, salt=SALT)


# what this project mints --------------------------------------------------------------
def test_minted_token_has_authjs_header_exactly():
    token = JWTCodec([SECRET]).encode({"sub": "1"}, salt=SALT, max_age=60)
    header_bytes = base64.urlsafe_b64decode(_parts(token)[0] + "==")

    kid = thumbprint(derive_key(SECRET, SALT))
    assert (
        header_bytes
        == ('{"alg":"dir","enc":"A256CBC-HS512","kid":"' + kid + '"}').encode()
    )
    assert _parts(token)[1] == ""


def test_minted_token_round_trips_the_vector_claims_with_fresh_iat_exp_jti():
    claims = {
        k: v
        for k, v in BASIC["expected_payload"].items()
        if k not in ("iat", "exp", "jti")
    }

    token = JWTCodec([SECRET]).encode(claims, salt=SALT, max_age=2592000, now=NOW)
    payload = JWTCodec([SECRET]).decode(token, salt=SALT, now=NOW)

    assert {k: payload[k] for k in claims} == claims
    assert payload["iat"] == NOW
    assert payload["exp"] == NOW + 2592000
    assert list(payload)[-3:] == ["iat", "exp", "jti"]
    assert len(payload["jti"]) == 36 and payload["jti"][14] == "4"


def test_each_encoding_gets_a_new_jti_and_iv():
    codec = JWTCodec([SECRET])
    one = codec.encode({"sub": "1"}, salt=SALT, max_age=60, now=NOW)
    two = codec.encode({"sub": "1"}, salt=SALT, max_age=60, now=NOW)

    assert _parts(one)[2] != _parts(two)[2]
    assert (
        codec.decode(one, salt=SALT, now=NOW)["jti"]
        != codec.decode(two, salt=SALT, now=NOW)["jti"]
    )


def test_reencoding_a_decoded_token_refreshes_iat_exp_jti_in_place():
    codec = JWTCodec([SECRET])
    first = codec.decode(
        codec.encode({"sub": "1", "name": "A"}, salt=SALT, max_age=60, now=NOW),
        salt=SALT,
        now=NOW,
    )

    second = codec.decode(
        codec.encode(first, salt=SALT, max_age=60, now=NOW + 30),
        salt=SALT,
        now=NOW + 30,
    )

    assert second["iat"] == NOW + 30 and second["exp"] == NOW + 90
    assert second["jti"] != first["jti"]
    assert list(second) == ["sub", "name", "iat", "exp", "jti"]


def test_non_ascii_claims_round_trip():
    codec = JWTCodec([SECRET])
    token = codec.encode({"name": "Zoë 山田 \U0001f600"}, salt=SALT, max_age=60)

    assert codec.decode(token, salt=SALT)["name"] == "Zoë 山田 \U0001f600"


def test_module_level_encode_decode_round_trip():
    token = encode({"sub": "9"}, SECRET, SALT, 60)

    assert decode(token, [SECRET], SALT)["sub"] == "9"


def test_codec_needs_a_secret():
    with pytest.raises(ValueError):
        JWTCodec([])


# joserfc reads every token we mint ----------------------------------------
def test_every_minted_token_decrypts_with_joserfc():
    codec = JWTCodec([SECRET])
    key = OctKey.import_key(derive_key(SECRET, SALT))
    for i in range(50):
        claims = {"sub": str(i), "name": "n" * i}
        token = codec.encode(claims, salt=SALT, max_age=60, now=NOW)
        payload = json.loads(jwe.decrypt_compact(token, key).plaintext)
        assert {k: payload[k] for k in claims} == claims


def test_every_jti_is_a_random_version_4_uuid():
    codec = JWTCodec([SECRET])
    seen = set()
    for _ in range(200):
        token = codec.encode({"sub": "1"}, salt=SALT, max_age=60, now=NOW)
        jti = uuid.UUID(codec.decode(token, salt=SALT, now=NOW)["jti"])
        assert jti.version == 4 and jti.variant == uuid.RFC_4122
        seen.add(jti)
    assert len(seen) == 200


# JSON that JavaScript can read back ---------------------------------------------
@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_claims_with_nan_or_infinity_are_refused_instead_of_minted(number):
    with pytest.raises(ValueError):
        JWTCodec([SECRET]).encode({"sub": "1", "score": number}, salt=SALT, max_age=60)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_a_token_whose_payload_holds_nan_or_infinity_is_refused(constant):
    # Python's json.loads would read these; JSON.parse (Auth.js) would not.
    key = derive_key(SECRET, SALT)
    header = {"alg": "dir", "enc": "A256CBC-HS512", "kid": thumbprint(key)}
    registry = jwe.JWERegistry(algorithms=["dir", "A256CBC-HS512"])
    token = jwe.encrypt_compact(
        header,
        b'{"sub":"1","score":' + constant + b"}",
        OctKey.import_key(key),
        registry=registry,
    )

    with pytest.raises(JWTError):
        JWTCodec([SECRET]).decode(token, salt=SALT)


def test_a_lone_surrogate_claim_round_trips():
    codec = JWTCodec([SECRET])
    token = codec.encode({"name": "a\ud800b"}, salt=SALT, max_age=60)

    assert codec.decode(token, salt=SALT)["name"] == "a\ud800b"


# the derived keys a codec keeps ------------------------------------------------------
def test_the_codec_keeps_at_most_max_derived_salts_key_sets_and_still_works():
    codec = JWTCodec([SECRET, "o" * 40])
    salts = [f"cookie-{i}" for i in range(MAX_DERIVED_SALTS + 5)]
    tokens = {s: codec.encode({"sub": s}, salt=s, max_age=60) for s in salts}

    assert len(codec._keys) == MAX_DERIVED_SALTS
    assert ("cookie-0", 64) not in codec._keys  # the oldest went first
    for salt, token in tokens.items():  # a dropped salt is derived again
        assert codec.decode(token, salt=salt)["sub"] == salt
    assert len(codec._keys) == MAX_DERIVED_SALTS


def test_derived_keys_are_reused_not_derived_per_token():
    codec = JWTCodec([SECRET])
    keys = codec.keys(SALT)
    codec.encode({"sub": "1"}, salt=SALT, max_age=60)

    assert codec.keys(SALT) is keys


# the tokens a codec remembers ----------------------------------------------------
def _refuse_decryption(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("decrypted although the token was remembered")

    monkeypatch.setattr(jwt_module.jwe, "decrypt_compact", refuse)


def test_a_minted_token_decodes_again_without_decryption(monkeypatch):
    codec = JWTCodec([SECRET])
    token = codec.encode({"sub": "1", "name": "A"}, salt=SALT, max_age=60, now=NOW)
    _refuse_decryption(monkeypatch)

    payload = codec.decode(token, salt=SALT, now=NOW)

    assert list(payload) == ["sub", "name", "iat", "exp", "jti"]
    assert payload["name"] == "A" and payload["exp"] == NOW + 60


def test_a_decrypted_token_is_remembered(monkeypatch):
    token = JWTCodec([SECRET]).encode({"sub": "1"}, salt=SALT, max_age=60, now=NOW)
    codec = JWTCodec([SECRET])
    first = codec.decode(token, salt=SALT, now=NOW)
    _refuse_decryption(monkeypatch)

    assert codec.decode(token, salt=SALT, now=NOW) == first


def test_a_remembered_token_decodes_to_a_fresh_object_each_time():
    codec = JWTCodec([SECRET])
    token = codec.encode({"sub": "1", "roles": ["a"]}, salt=SALT, max_age=60, now=NOW)

    first = codec.decode(token, salt=SALT, now=NOW)
    first["roles"].append("admin")
    first["extra"] = True

    again = codec.decode(token, salt=SALT, now=NOW)
    assert again["roles"] == ["a"] and "extra" not in again


def test_a_remembered_token_still_expires():
    codec = JWTCodec([SECRET])
    token = codec.encode({"sub": "1"}, salt=SALT, max_age=60, now=NOW)
    assert codec.decode(token, salt=SALT, now=NOW + 60)["sub"] == "1"

    with pytest.raises(JWTError, match="expired"):
        codec.decode(token, salt=SALT, now=NOW + 60 + CLOCK_TOLERANCE)


def test_a_minted_token_with_a_non_numeric_nbf_is_refused_on_decode():
    codec = JWTCodec([SECRET])
    token = codec.encode({"sub": "1", "nbf": "soon"}, salt=SALT, max_age=60, now=NOW)

    with pytest.raises(JWTError):
        codec.decode(token, salt=SALT, now=NOW)


def test_a_remembered_token_is_not_accepted_under_another_salt():
    # A check cookie's token must not pass as a session token, remembered or not.
    codec = JWTCodec([SECRET])
    token = codec.encode({"sub": "1"}, salt="authjs.state", max_age=60)

    with pytest.raises(JWTError):
        codec.decode(token, salt=SALT)


def test_a_tampered_copy_of_a_remembered_token_is_still_refused():
    codec = JWTCodec([SECRET])
    token = codec.encode({"sub": "1"}, salt=SALT, max_age=60)
    codec.decode(token, salt=SALT)
    tag = _parts(token)[4]

    with pytest.raises(JWTError):
        codec.decode(_with_part(token, 4, _flip_last_char(tag)), salt=SALT)


def test_the_codec_remembers_at_most_token_cache_size_tokens():
    codec = JWTCodec([SECRET])
    tokens = [
        codec.encode({"sub": str(i)}, salt=SALT, max_age=60, now=NOW)
        for i in range(TOKEN_CACHE_SIZE + 5)
    ]

    assert len(codec._plaintexts) == TOKEN_CACHE_SIZE
    assert (SALT, tokens[0]) not in codec._plaintexts  # the oldest went first
    assert (SALT, tokens[-1]) in codec._plaintexts
    # a forgotten token is decrypted again
    assert codec.decode(tokens[0], salt=SALT, now=NOW)["sub"] == "0"
    assert len(codec._plaintexts) == TOKEN_CACHE_SIZE


def test_a_token_longer_than_one_cookie_is_not_remembered():
    codec = JWTCodec([SECRET])
    token = codec.encode({"sub": "1", "blob": "x" * 4000}, salt=SALT, max_age=60)
    assert len(token) > TOKEN_CACHE_MAX_LENGTH

    assert codec.decode(token, salt=SALT)["blob"] == "x" * 4000
    assert codec._plaintexts == {}

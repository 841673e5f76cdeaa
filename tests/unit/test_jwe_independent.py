"""A second JWE decryptor, written here from RFC 7516/7518, reads what we mint.

It shares no code with :mod:`app.auth.jwt` (nor joserfc): HKDF, AES-CBC and
HMAC-SHA512 come straight from ``cryptography``. It first proves itself on the
tokens Auth.js minted (the vectors), then decrypts tokens from
``JWTCodec.encode`` and checks every header field Auth.js relies on.
"""

from __future__ import annotations

import base64
import hmac
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.auth.jwt import JWTCodec

VECTORS = json.loads(
    (
        Path(__file__).resolve().parent.parent / "data" / "authjs-vectors.json"
    ).read_text()
)["vectors"]
SECRET = "independent-check-secret-0123456789abcdef"
NOW = 1_800_000_000


class Rejected(Exception):
    """The independent decryptor refused the token."""


def b64url_decode(text: str) -> bytes:
    if "=" in text:
        raise Rejected("base64url in JWS/JWE compact form has no padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def authjs_key(secret: str, salt: str) -> bytes:
    """Auth.js's content-encryption key: HKDF-SHA256, 64 bytes for A256CBC-HS512."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=64,
        salt=salt.encode("utf-8"),
        info=f"Auth.js Generated Encryption Key ({salt})".encode(),
    ).derive(secret.encode("utf-8"))


def jwk_thumbprint_sha512(key: bytes) -> str:
    """RFC 7638: required members of the ``oct`` JWK, sorted, no whitespace."""
    members = '{"k":"' + b64url_encode(key) + '","kty":"oct"}'
    digest = hashes.Hash(hashes.SHA512())
    digest.update(members.encode("utf-8"))
    return b64url_encode(digest.finalize())


@dataclass
class Decrypted:
    header: dict
    header_b64: str
    encrypted_key: bytes
    iv: bytes
    tag: bytes
    payload: dict


def decrypt(token: str, key: bytes) -> Decrypted:
    """RFC 7516 §5.2 for ``alg=dir``, ``enc=A256CBC-HS512`` (RFC 7518 §5.2.2.2)."""
    parts = token.split(".")
    if len(parts) != 5:
        raise Rejected("a compact JWE has five parts")
    header_b64, ek_b64, iv_b64, ct_b64, tag_b64 = parts
    header = json.loads(b64url_decode(header_b64))
    if header.get("alg") != "dir" or header.get("enc") != "A256CBC-HS512":
        raise Rejected("only dir + A256CBC-HS512")
    encrypted_key = b64url_decode(ek_b64)
    if encrypted_key:
        raise Rejected(
            "alg dir: the JWE Encrypted Key must be empty (RFC 7516 §5.2 step 10)"
        )
    iv, ciphertext, tag = (
        b64url_decode(iv_b64),
        b64url_decode(ct_b64),
        b64url_decode(tag_b64),
    )
    if len(key) != 64:
        raise Rejected("A256CBC-HS512 takes a 64-byte key")
    mac_key, enc_key = key[:32], key[32:]
    # RFC 7516 §5.2 step 14: AAD = ASCII(BASE64URL(UTF8(JWE Protected Header))).
    aad = header_b64.encode("ascii")
    # RFC 7518 §5.2.2.2: AL is the AAD length in bits, a 64-bit big-endian integer.
    al = struct.pack(">Q", len(aad) * 8)
    mac = crypto_hmac.HMAC(mac_key, hashes.SHA512())
    mac.update(aad + iv + ciphertext + al)
    expected_tag = mac.finalize()[:32]  # T_LEN = 32 bytes for A256CBC-HS512
    if not hmac.compare_digest(expected_tag, tag):
        raise Rejected("authentication tag mismatch")
    decryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    plaintext = unpadder.update(padded) + unpadder.finalize()
    return Decrypted(
        header,
        header_b64,
        encrypted_key,
        iv,
        tag,
        json.loads(plaintext.decode("utf-8")),
    )


# the decryptor is right: it reads Auth.js's own tokens --------------------------------
@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_independent_decryptor_reads_authjs_tokens(vector):
    key = authjs_key(vector["secret"], vector["salt"])

    result = decrypt(vector["token"], key)

    assert key.hex() == vector["derived_key_hex"]
    assert result.payload == vector["expected_payload"]
    assert result.header == vector["protected_header"]
    assert jwk_thumbprint_sha512(key) == result.header["kid"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_independent_decryptor_rejects_a_forged_tag(vector):
    header, ek, iv, ct, tag = vector["token"].split(".")
    forged = ".".join([header, ek, iv, ct, ("A" if tag[0] != "A" else "B") + tag[1:]])

    with pytest.raises(Rejected):
        decrypt(forged, authjs_key(vector["secret"], vector["salt"]))


# ... and it reads ours ----------------------------------------------------------------
@pytest.fixture(params=["authjs.session-token", "__Secure-authjs.session-token"])
def minted(request):
    salt = request.param
    claims = {
        "name": "Alice Example",
        "email": "alice@example.com",
        "picture": "https://example.com/a.png",
        "sub": "user-1",
        "roles": ["a"],
    }
    token = JWTCodec([SECRET]).encode(claims, salt=salt, max_age=3600, now=NOW)
    return salt, claims, token


def test_our_token_decrypts_independently_to_the_claims(minted):
    salt, claims, token = minted

    result = decrypt(token, authjs_key(SECRET, salt))

    assert result.payload == {
        **claims,
        "iat": NOW,
        "exp": NOW + 3600,
        "jti": result.payload["jti"],
    }
    assert list(result.payload) == [*claims, "iat", "exp", "jti"]


def test_our_header_is_exactly_alg_enc_kid(minted):
    salt, _, token = minted

    result = decrypt(token, authjs_key(SECRET, salt))

    raw = base64.urlsafe_b64decode(result.header_b64 + "==")
    assert list(json.loads(raw)) == ["alg", "enc", "kid"]
    assert result.header["alg"] == "dir"
    assert result.header["enc"] == "A256CBC-HS512"
    assert "zip" not in result.header and "typ" not in result.header


def test_our_kid_is_the_sha512_jwk_thumbprint(minted):
    salt, _, token = minted

    result = decrypt(token, authjs_key(SECRET, salt))

    assert result.header["kid"] == jwk_thumbprint_sha512(authjs_key(SECRET, salt))
    assert len(result.header["kid"]) == 86


def test_our_token_has_empty_key_part_16_byte_iv_and_32_byte_tag(minted):
    salt, _, token = minted

    result = decrypt(token, authjs_key(SECRET, salt))

    assert token.split(".")[1] == ""
    assert result.encrypted_key == b""
    assert len(result.iv) == 16
    assert len(result.tag) == 32


def test_our_token_does_not_decrypt_under_the_other_cookie_name(minted):
    salt, _, token = minted
    other = (
        "__Secure-authjs.session-token"
        if salt == "authjs.session-token"
        else "authjs.session-token"
    )

    with pytest.raises(Rejected):
        decrypt(token, authjs_key(SECRET, other))


def test_our_token_of_the_first_secret_decrypts_independently_under_rotation():
    token = JWTCodec([SECRET, "old" * 20]).encode(
        {"sub": "7"}, salt="authjs.session-token", max_age=60
    )

    result = decrypt(token, authjs_key(SECRET, "authjs.session-token"))

    assert result.payload["sub"] == "7"

"""Auth.js-compatible encrypted JWTs (JWE ``dir`` + ``A256CBC-HS512``).

joserfc encrypts and decrypts; this module adds what Auth.js layers on top.
Auth.js (``@auth/core`` ``jwt.ts``) derives a 64-byte key per secret and
*salt* (the cookie name) with HKDF-SHA256 and the info string
``"Auth.js Generated Encryption Key (<salt>)"``. The protected header carries
``kid``, the RFC 7638 thumbprint of that key computed with SHA-512; decoding
picks the secret whose key matches ``kid``, which is how secret rotation works
(the first secret encrypts, every secret decrypts).

The codec keeps the derived keys per salt (HKDF and the thumbprint would
otherwise run for every token), and the plaintext of the tokens it recently
minted or decrypted: a browser polling ``GET session`` sends back the token
it was just given, and every page view resends the same one, so neither pays
for a second decryption. A token is remembered by its whole compact form,
authentication tag included, so only a token this codec accepted can match;
time claims are checked on every use, remembered or not.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from app.auth.errors import JWTError
from app.auth.jsonutil import compact_json

ENCRYPTION = "A256CBC-HS512"
ACCEPTED_ENCRYPTIONS = {"A256CBC-HS512": 64, "A256GCM": 32}  # enc -> key bytes
CLOCK_TOLERANCE = 15  # seconds, as Auth.js
MAX_TOKEN_LENGTH = 64 * 1024
#: (salt, key length) pairs whose keys a codec keeps. The salts are cookie
#: names (two session cookies, six check cookies, ``encodedState``), each
#: with at most two key lengths; past the bound the oldest pair is dropped.
MAX_DERIVED_SALTS = 32
#: Remembered tokens per codec (oldest dropped first). Kept because it
#: measures: without it a session read costs 1.27-1.39x the CPU (in process).
TOKEN_CACHE_SIZE = 2048
#: Longer tokens (chunked sessions) are decrypted every time, which keeps the
#: cache's memory under TOKEN_CACHE_SIZE x (token + plaintext) of one cookie.
TOKEN_CACHE_MAX_LENGTH = 4096

_REGISTRY = jwe.JWERegistry(algorithms=["dir", *ACCEPTED_ENCRYPTIONS])


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: str, salt: str, length: int = 64) -> bytes:
    """HKDF-SHA256(ikm=secret, salt=salt, info="Auth.js Generated Encryption Key (salt)")."""
    info = f"Auth.js Generated Encryption Key ({salt})".encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=salt.encode(), info=info)
    return hkdf.derive(secret.encode())


def thumbprint(key: bytes) -> str:
    """RFC 7638 thumbprint of the ``oct`` JWK, with SHA-512 for a 64-byte key.

    The digest size follows the key size as in Auth.js (``jose``'s
    ``calculateJwkThumbprint(jwk, "sha<bits>")``): 64 bytes -> SHA-512,
    32 bytes -> SHA-256.
    """
    members = json.dumps({"k": b64url(key), "kty": "oct"}, separators=(",", ":"))
    digest = hashlib.sha512 if len(key) == 64 else hashlib.sha256
    return b64url(digest(members.encode()).digest())


@dataclass(frozen=True)
class DerivedKey:
    jwk: OctKey
    kid: str

    @classmethod
    def derive(cls, secret: str, salt: str, length: int = 64) -> DerivedKey:
        raw = derive_key(secret, salt, length)
        return cls(jwk=OctKey.import_key(raw), kid=thumbprint(raw))


class JWTCodec:
    """Encodes and decodes Auth.js JWTs for one ordered list of secrets."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one secret is required")
        self.secrets = tuple(secrets)
        # (salt, length) -> one key per secret; insertion order is age.
        self._keys: dict[tuple[str, int], tuple[DerivedKey, ...]] = {}
        # (salt, token) -> the token's JSON payload; insertion order is age.
        self._plaintexts: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def keys(self, salt: str, length: int = 64) -> tuple[DerivedKey, ...]:
        """The derived keys for ``salt``, one per secret, first one encrypting."""
        entry = (salt, length)
        keys = self._keys.get(entry)
        if keys is None:
            keys = tuple(DerivedKey.derive(s, salt, length) for s in self.secrets)
            with self._lock:
                if entry not in self._keys and len(self._keys) >= MAX_DERIVED_SALTS:
                    del self._keys[next(iter(self._keys))]
                self._keys[entry] = keys
        return keys

    def _remember(self, salt: str, token: str, plaintext: bytes) -> None:
        if len(token) > TOKEN_CACHE_MAX_LENGTH:
            return
        with self._lock:
            self._plaintexts[(salt, token)] = plaintext
            while len(self._plaintexts) > TOKEN_CACHE_SIZE:
                del self._plaintexts[next(iter(self._plaintexts))]

    def encode(
        self,
        claims: Mapping[str, Any],
        *,
        salt: str,
        max_age: int,
        now: float | None = None,
    ) -> str:
        """Encrypt ``claims`` with fresh ``iat``, ``exp`` (iat + max_age) and ``jti``.

        The claims keep their order, then ``iat``, ``exp``, ``jti``, as
        Auth.js writes them; a claim that already has one of those names
        keeps its place with the new value.
        """
        issued = int(time.time() if now is None else now)
        payload = dict(claims)
        payload["iat"] = issued
        payload["exp"] = issued + int(max_age)
        payload["jti"] = str(uuid.uuid4())
        key = self.keys(salt)[0]
        header = {"alg": "dir", "enc": ENCRYPTION, "kid": key.kid}
        plaintext = compact_json(payload)
        token = jwe.encrypt_compact(header, plaintext, key.jwk, registry=_REGISTRY)
        self._remember(salt, token, plaintext)
        return token

    def decode(
        self, token: str, *, salt: str, now: float | None = None
    ) -> dict[str, Any]:
        """Decrypt and validate ``token``; raise :class:`JWTError` on any defect."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise JWTError("empty or oversized token")
        remembered = self._plaintexts.get((salt, token))
        if remembered is not None:
            payload = json.loads(remembered)  # a fresh object: callers mutate it
            _check_times(payload, time.time() if now is None else now)
            return payload
        header = _header(token)
        if header.get("alg") != "dir":
            raise JWTError("unsupported alg")
        enc = header.get("enc")
        # A forged header may hold any JSON here (a list is not even hashable).
        length = ACCEPTED_ENCRYPTIONS.get(enc) if isinstance(enc, str) else None
        if length is None:
            raise JWTError("unsupported enc")
        keys = self.keys(salt, length)
        kid = header.get("kid")
        if kid is None:
            key = keys[0]
        else:
            key = next((k for k in keys if k.kid == kid), None)
            if key is None:
                raise JWTError("no secret matches the token's kid")
        try:
            result = jwe.decrypt_compact(token, key.jwk, registry=_REGISTRY)
            payload = json.loads(result.plaintext, parse_constant=_refuse_constant)
        except (JoseError, ValueError, TypeError) as exc:
            raise JWTError(f"cannot decrypt: {exc.__class__.__name__}") from None
        if not isinstance(payload, dict):
            raise JWTError("payload is not a JSON object")
        _check_times(payload, time.time() if now is None else now)
        self._remember(salt, token, result.plaintext)
        return payload


def _refuse_constant(name: str) -> None:
    """``NaN``/``Infinity`` are not JSON: JavaScript's ``JSON.parse`` refuses
    them, and :func:`~app.auth.jsonutil.compact_json` could not write them back."""
    raise ValueError(f"{name} is not JSON")


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 5:
        raise JWTError("not a compact JWE")
    try:
        header = json.loads(b64url_decode(parts[0]))
    except (ValueError, TypeError):
        raise JWTError("unreadable protected header") from None
    if not isinstance(header, dict):
        raise JWTError("protected header is not an object")
    return header


def _number(payload: Mapping[str, Any], claim: str) -> float | None:
    value = payload.get(claim)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JWTError(f"claim {claim} is not a number")
    return value


def _check_times(payload: Mapping[str, Any], now: float) -> None:
    exp = _number(payload, "exp")
    if exp is not None and exp <= now - CLOCK_TOLERANCE:
        raise JWTError("token expired")
    nbf = _number(payload, "nbf")
    if nbf is not None and nbf > now + CLOCK_TOLERANCE:
        raise JWTError("token not yet valid")
    _number(payload, "iat")


def encode(
    claims: Mapping[str, Any], secret: str | Sequence[str], salt: str, max_age: int
) -> str:
    """Auth.js ``jwt.encode``: one-off encryption (applications, scripts, tests)."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    return JWTCodec(secrets).encode(claims, salt=salt, max_age=max_age)


def decode(token: str, secret: str | Sequence[str], salt: str) -> dict[str, Any]:
    """Auth.js ``jwt.decode``; raises :class:`JWTError` when the token is unusable."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    return JWTCodec(secrets).decode(token, salt=salt)

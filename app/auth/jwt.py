"""Auth.js-compatible encrypted JWTs (JWE ``dir`` + ``A256CBC-HS512``).

joserfc decrypts and validates tokens; encryption, the hot half of every
session read, is :class:`ContentEncryptor` on ``cryptography``'s AES and
HMAC, checked against joserfc and against an independent RFC 7516/7518
implementation in the tests.

Auth.js (``@auth/core`` ``jwt.ts``) derives a 64-byte key per secret and
*salt* (the cookie name) with HKDF-SHA256 and the info string
``"Auth.js Generated Encryption Key (<salt>)"``. The protected header carries
``kid``, the RFC 7638 thumbprint of that key computed with SHA-512; decoding
picks the secret whose key matches ``kid``, which is how secret rotation works
(the first secret encrypts, every secret decrypts).

Derived keys are cached per codec, so the session-reading hot path does no
HKDF. The codec also remembers the plaintext of the last few thousand tokens
it encrypted or decrypted (keyed by the whole token, an authenticated
ciphertext, so a hit proves the token is one this codec accepted): a browser
polling ``GET session`` sends back the token it was just given, and a page
view resends the same token, so neither pays a second decryption. Time
claims are checked on every use, hit or not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
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
PLAINTEXT_CACHE_SIZE = 4096
#: claim values a cached payload may hold and still be handed out as a shallow
#: copy (anything else, nested objects included, is parsed again on each use)
_SCALARS = frozenset((str, int, float, bool, type(None)))

_REGISTRY = jwe.JWERegistry(algorithms=["dir", *ACCEPTED_ENCRYPTIONS])


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return (
        binascii.b2a_base64(data, newline=False)
        .translate(_URLSAFE)
        .rstrip(b"=")
        .decode("ascii")
    )


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


class ContentEncryptor:
    """``A256CBC-HS512`` encryption (RFC 7518 §5.2.2.1) for one 64-byte key.

    The key splits into an HMAC-SHA-512 key (first half) and an AES-256 key
    (second half); the tag is the first 32 bytes of
    ``HMAC(AAD || IV || ciphertext || AL)``, AL being the AAD's length in bits
    as a 64-bit big-endian number.

    The session read re-encrypts a token on every request, so nothing is
    built per call that can be built once: the keyed HMAC, which has already
    taken in the AAD (the same for every token of a key), is copied, and each
    thread keeps one long-lived AES-CBC context. CBC chains every block on
    the previous ciphertext block, so after a message the context's state is
    that message's last ciphertext block ``s``; the next message, under its
    own fresh random ``iv``, is fed with its first block replaced by
    ``P1 ^ iv ^ s``, which the context turns into ``E(P1 ^ iv)``: exactly the
    first block of CBC started with ``iv``, every later block chaining as
    usual. The ciphertext is bit for bit what a new context started with
    ``iv`` would give (``tests/unit/test_jwt.py`` checks that against a fresh
    context, across threads, and every token decrypts with joserfc).
    """

    def __init__(self, key: bytes, aad: bytes) -> None:
        if len(key) != 64:
            raise ValueError("A256CBC-HS512 needs a 64-byte key")
        self._aes = algorithms.AES(key[32:])
        # With alg "dir" the AAD (the protected header) is the same for every
        # token of a key, so the HMAC starts from a state that has taken it in.
        self._mac = crypto_hmac.HMAC(key[:32], hashes.SHA512())
        self._mac.update(aad)
        self._al = (len(aad) * 8).to_bytes(8, "big")
        self._local = threading.local()

    def encrypt(self, plaintext: bytes, iv: bytes) -> tuple[bytes, bytes]:
        """``(ciphertext, tag)`` for ``plaintext`` under a fresh 16-byte ``iv``."""
        if len(iv) != 16:
            raise ValueError("the IV must be 16 bytes")
        pad = 16 - len(plaintext) % 16  # PKCS#7
        padded = plaintext + bytes((pad,)) * pad
        local = self._local
        context = getattr(local, "context", None)
        if context is None:
            context = Cipher(self._aes, modes.CBC(_ZERO_BLOCK)).encryptor()
            local.last = _ZERO_BLOCK
        first = (
            int.from_bytes(padded[:16], "big")
            ^ int.from_bytes(iv, "big")
            ^ int.from_bytes(local.last, "big")
        ).to_bytes(16, "big")
        local.context = None  # should update fail, the next call starts afresh
        ciphertext = context.update(first + padded[16:])
        local.context, local.last = context, ciphertext[-16:]
        mac = self._mac.copy()
        mac.update(iv)
        mac.update(ciphertext)
        mac.update(self._al)
        return ciphertext, mac.finalize()[:32]


_ZERO_BLOCK = bytes(16)


@dataclass(frozen=True)
class DerivedKey:
    raw: bytes
    jwk: OctKey
    kid: str
    #: BASE64URL(UTF8(protected header)) for tokens this key encrypts
    protected: str
    #: ``A256CBC-HS512`` encryption with this key and header as AAD (64-byte
    #: keys only; a 32-byte key is for decoding ``A256GCM`` tokens)
    encryptor: ContentEncryptor | None = None

    @classmethod
    def derive(cls, secret: str, salt: str, length: int = 64) -> DerivedKey:
        raw = derive_key(secret, salt, length)
        kid = thumbprint(raw)
        header = json.dumps(
            {"alg": "dir", "enc": ENCRYPTION, "kid": kid}, separators=(",", ":")
        )
        protected = b64url(header.encode())
        return cls(
            raw=raw,
            jwk=OctKey.import_key(raw),
            kid=kid,
            protected=protected,
            encryptor=(
                ContentEncryptor(raw, protected.encode("ascii"))
                if length == 64
                else None
            ),
        )


class JWTCodec:
    """Encodes and decodes Auth.js JWTs for one ordered list of secrets."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one secret is required")
        self.secrets = tuple(secrets)
        self._keys: dict[tuple[str, int], tuple[DerivedKey, ...]] = {}
        self._lock = threading.Lock()
        # (salt, token) -> (payload, exp, nbf); oldest entries leave first (an
        # OrderedDict: a plain dict's "first key" gets slow under churn). The
        # payload is kept as a dict when every claim is a scalar, so a shallow
        # copy of it is as good as parsing it again, else as its JSON; exp and
        # nbf are kept already type-checked.
        self._plaintexts: OrderedDict[
            tuple[str, str],
            tuple[dict[str, Any] | bytes, float | None, float | None],
        ] = OrderedDict()

    def _remember(
        self, salt: str, token: str, plaintext: bytes, payload: dict[str, Any]
    ) -> None:
        exp, nbf = payload.get("exp"), payload.get("nbf")
        # An int exp and no nbf (what encode writes) need no further check.
        if not (type(exp) is int and nbf is None):
            try:
                exp, nbf = _number(payload, "exp"), _number(payload, "nbf")
            except JWTError:
                return  # a callback's odd nbf: decoding will refuse the token
        flat = _SCALARS.issuperset(map(type, payload.values()))
        cache = self._plaintexts
        cache[(salt, token)] = (payload if flat else plaintext, exp, nbf)
        if len(cache) > PLAINTEXT_CACHE_SIZE:
            try:
                cache.popitem(last=False)
            except KeyError:
                pass  # another thread evicted first

    def keys(self, salt: str, length: int = 64) -> tuple[DerivedKey, ...]:
        """The derived keys for ``salt``, one per secret, first one encrypting."""
        cache_key = (salt, length)
        keys = self._keys.get(cache_key)
        if keys is None:
            with self._lock:
                keys = tuple(DerivedKey.derive(s, salt, length) for s in self.secrets)
                self._keys[cache_key] = keys
        return keys

    def encode(
        self,
        claims: Mapping[str, Any],
        *,
        salt: str,
        max_age: int,
        now: float | None = None,
    ) -> str:
        """Encrypt ``claims`` with fresh ``iat``, ``exp`` (iat + max_age) and ``jti``."""
        issued = int(time.time() if now is None else now)
        payload = dict(claims)
        payload["iat"] = issued
        payload["exp"] = issued + int(max_age)
        # One call for all the randomness: 16 bytes of IV, 16 of a UUIDv4 jti.
        entropy = os.urandom(32)
        payload["jti"] = _uuid4(entropy[16:])
        key = self.keys(salt)[0]
        plaintext = compact_json(payload)
        # RFC 7516 §5.1 with alg "dir": the CEK is the derived key, the
        # encrypted-key part is empty, the AAD is the protected header as sent
        # (encoded once per key: it never changes).
        iv = entropy[:16]
        ciphertext, tag = key.encryptor.encrypt(plaintext, iv)
        token = f"{key.protected}..{b64url(iv)}.{b64url(ciphertext)}.{b64url(tag)}"
        self._remember(salt, token, plaintext, payload)
        return token

    def decode(
        self, token: str, *, salt: str, now: float | None = None
    ) -> dict[str, Any]:
        """Decrypt and validate ``token``; raise :class:`JWTError` on any defect."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise JWTError("empty or oversized token")
        cached = self._plaintexts.get((salt, token))
        if cached is not None:
            # A fresh object either way: callers may mutate it. The claims'
            # types were checked when the token was first seen; the times are
            # checked on every use.
            kept, exp, nbf = cached
            now = time.time() if now is None else now
            if exp is not None and exp <= now - CLOCK_TOLERANCE:
                raise JWTError("token expired")
            if nbf is not None and nbf > now + CLOCK_TOLERANCE:
                raise JWTError("token not yet valid")
            return dict(kept) if type(kept) is dict else json.loads(kept)
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
            payload = json.loads(result.plaintext)
        except (JoseError, ValueError, TypeError) as exc:
            raise JWTError(f"cannot decrypt: {exc.__class__.__name__}") from None
        if not isinstance(payload, dict):
            raise JWTError("payload is not a JSON object")
        _check_times(payload, time.time() if now is None else now)
        self._remember(salt, token, result.plaintext, dict(payload))
        return payload


def _uuid4(random16: bytes) -> str:
    """A random (version 4, RFC 9562) UUID string from 16 random bytes."""
    h = random16.hex()
    # version nibble 4; variant bits 10 in the top of the 17th hex digit
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


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

"""Auth.js double-submit CSRF tokens (``lib/actions/callback/oauth/csrf-token.ts``).

The cookie holds ``<token>|sha256_hex(token + secret)``; a state-changing POST
is accepted when that hash verifies *and* the body's ``csrfToken`` equals the
token. The token is not bound to a session and does not rotate on sign-in,
exactly as in Auth.js, so Auth.js's browser clients work unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class CsrfState:
    token: str
    cookie_value: str | None  # a new cookie to set, or None when the old one is valid
    verified: bool


def _bytes(text: str) -> bytes:
    # A JSON body may carry lone surrogates ("\ud800"): compare them as bytes
    # instead of failing to encode them.
    return text.encode("utf-8", "surrogatepass")


def hash_token(token: str, secret: str) -> str:
    return hashlib.sha256(_bytes(token + secret)).hexdigest()


def _token_of_cookie(cookie_value: str, secret: str) -> str | None:
    """The token a CSRF cookie carries, or None when its hash is not ours."""
    token, sep, digest = cookie_value.partition("|")
    if not sep or not hmac.compare_digest(
        _bytes(digest), hash_token(token, secret).encode()
    ):
        return None
    return token


def new_token() -> str:
    return secrets.token_hex(32)


def csrf_state(
    cookie_value: str | None, secret: str, *, body_token: str | None, is_post: bool
) -> CsrfState:
    """Reuse the request's token when its cookie verifies, else mint a new one."""
    token = _token_of_cookie(cookie_value, secret) if cookie_value else None
    if token is not None:
        verified = (
            is_post
            and isinstance(body_token, str)
            and hmac.compare_digest(_bytes(body_token), _bytes(token))
        )
        return CsrfState(token=token, cookie_value=None, verified=verified)
    token = new_token()
    return CsrfState(
        token=token, cookie_value=f"{token}|{hash_token(token, secret)}", verified=False
    )

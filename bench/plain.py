"""The yardstick: Auth.js's ``GET session`` for a JWT session, written plainly.

A bare Pyramid app with one view that does what the product's session read
must do, the obvious way: read the cookie, decrypt it with joserfc, check
``exp``, build the session JSON with the standard library, encrypt a fresh
token (new ``iat``, ``exp``, ``jti``) and set it with Auth.js's attributes.
The key is derived once, at start-up, with HKDF as Auth.js does (the cookie
name is the salt). It is what the product is measured against, not a rival:
no caches, no tricks, one secret, the insecure (``http``) cookie name.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from email.utils import formatdate

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from pyramid.config import Configurator
from pyramid.response import Response

COOKIE = "authjs.session-token"
MAX_AGE = 30 * 24 * 3600  # Auth.js's default session.maxAge
NO_CACHE = [
    ("Cache-Control", "private, no-cache, no-store"),
    ("Expires", "0"),
    ("Pragma", "no-cache"),
]
USER_CLAIMS = [("name", "name"), ("email", "email"), ("image", "picture")]


def make_app(secret: str):
    raw = HKDF(
        algorithm=hashes.SHA256(),
        length=64,
        salt=COOKIE.encode(),
        info=f"Auth.js Generated Encryption Key ({COOKIE})".encode(),
    ).derive(secret.encode())
    key = OctKey.import_key(raw)
    jwk = json.dumps({"k": key.as_dict()["k"], "kty": "oct"}, separators=(",", ":"))
    kid = base64.urlsafe_b64encode(hashlib.sha512(jwk.encode()).digest())
    header = {"alg": "dir", "enc": "A256CBC-HS512", "kid": kid.decode().rstrip("=")}
    registry = jwe.JWERegistry(algorithms=["dir", "A256CBC-HS512"])

    def session(request):
        now = int(time.time())
        response = Response(b"null", content_type="application/json")
        response.headerlist.extend(NO_CACHE)
        if COOKIE not in request.cookies:
            return response
        try:
            token = jwe.decrypt_compact(request.cookies[COOKIE], key, registry=registry)
            claims = json.loads(token.plaintext)
            if claims["exp"] <= now:
                raise ValueError("expired")
        except (KeyError, TypeError, ValueError, JoseError):
            clear = f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
            response.headerlist.append(("Set-Cookie", clear))
            return response
        user = {k: claims[c] for k, c in USER_CLAIMS if c in claims}
        expires = now + MAX_AGE
        iso = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(expires))
        body = json.dumps({"user": user, "expires": iso}, separators=(",", ":"))
        claims.update(iat=now, exp=expires, jti=str(uuid.uuid4()))
        fresh = jwe.encrypt_compact(header, json.dumps(claims), key, registry=registry)
        http_date = formatdate(expires, usegmt=True)
        response.body = body.encode()
        response.headerlist.append(
            (
                "Set-Cookie",
                f"{COOKIE}={fresh}; Path=/; Expires={http_date}; HttpOnly; SameSite=Lax",
            )
        )
        return response

    config = Configurator()
    config.add_route("session", "/api/auth/session", request_method="GET")
    config.add_view(session, route_name="session")
    return config.make_wsgi_app()

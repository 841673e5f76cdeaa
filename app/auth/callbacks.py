"""Auth.js's callbacks (``signIn``, ``redirect``, ``jwt``, ``session``), Pyramid-style.

Applications add them with ``config.add_auth_callback(kind, fn)``. Several
callbacks of one kind run in the order they were added, each receiving what
the previous returned, so the registration package and the site can both
take part without knowing of each other.

- ``signin(request, *, user, account, profile, email=None, credentials=None) ->
  bool | str``: ``False`` refuses (``AccessDenied``), a string redirects there.
- ``redirect(request, *, url, base_url) -> str``: where to send the browser.
- ``jwt(request, *, token, user=None, account=None, profile=None,
  trigger=None, is_new_user=False, session=None) -> dict | None``: the token
  to store; ``None`` ends the session.
- ``session(request, *, session, token=None, user=None, new_session=None,
  trigger=None) -> dict``: what ``GET session`` answers.

Every callback must accept unknown keywords (``**kw``) so new arguments can be
added without breaking it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pyramid_retry import is_error_retryable

from app.auth.errors import AuthError
from app.models import database_unavailable

log = logging.getLogger(__name__)

KINDS = ("signin", "redirect", "jwt", "session")


def default_redirect(url: str, base_url: str) -> str:
    """Auth.js's default: relative paths join the origin; other origins are refused."""
    if url.startswith("/"):
        return base_url + url
    try:
        parts = urlsplit(url)
        same = f"{parts.scheme}://{parts.netloc}" == base_url
    except ValueError:
        same = False
    return url if same else base_url


def default_session(token: Mapping[str, Any]) -> dict[str, Any]:
    """The default session body for a JWT: user name, email and image (from ``picture``)."""
    user = {}
    for key, claim in (("name", "name"), ("email", "email"), ("image", "picture")):
        if token.get(claim) is not None:
            user[key] = token[claim]
    return {"user": user}


@dataclass(frozen=True)
class Callbacks:
    signin: tuple[Callable[..., Any], ...] = ()
    redirect: tuple[Callable[..., Any], ...] = ()
    jwt: tuple[Callable[..., Any], ...] = ()
    session: tuple[Callable[..., Any], ...] = ()

    def run_signin(self, request, **kw: Any) -> bool | str:
        for fn in self.signin:
            try:
                result = fn(request, **kw)
            except AuthError:
                raise  # the application chose its answer (e.g. RateLimited)
            except Exception as exc:
                # Auth.js (handleAuthorized): a signIn callback that throws is
                # AccessDenied, not a server error.
                if request is not None and is_error_retryable(request, exc):
                    raise  # a database conflict: pyramid_retry runs the request again
                if database_unavailable(exc):
                    raise  # not a refusal: the 503 "try again" answer
                log.warning(
                    "signin callback %s failed: refusing the sign-in",
                    getattr(fn, "__qualname__", fn),
                    exc_info=True,
                )
                return False
            # Auth.js: any falsy answer (False, None, "") refuses; a string redirects.
            if not result:
                return False
            if isinstance(result, str):
                return result
        return True

    def run_redirect(self, request, url: str, base_url: str) -> str:
        if not self.redirect:
            return default_redirect(url, base_url)
        for fn in self.redirect:
            url = fn(request, url=url, base_url=base_url)
        return url

    def run_jwt(
        self, request, token: dict[str, Any], **kw: Any
    ) -> dict[str, Any] | None:
        for fn in self.jwt:
            token = fn(request, token=token, **kw)
            if token is None:
                return None
        return token

    def run_session(
        self, request, session: dict[str, Any], **kw: Any
    ) -> dict[str, Any]:
        for fn in self.session:
            session = fn(request, session=session, **kw)
        return session

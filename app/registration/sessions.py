"""Ending JWT sessions of deleted users, and those issued before a password change.

A JWT session lives in the browser, so the server cannot delete it; instead
the core's ``jwt`` callback (added with ``config.add_auth_callback("jwt", ...)``)
stamps each new token of a user in the database with the user's current
``session_version`` (claim ``pwv``) and, on every later read, ends the
session (returns ``None``) when the user row no longer exists or the claim is
below the version in ``registration_passwords``. A password reset increments
the version, and so does claiming an unverified account (its password is
dropped). Database sessions are simply deleted.

A token without the claim belongs to a user an application keeps outside the
database (its own credentials ``authorize``): there is nothing to check.

The read path is hot (every request with a session cookie), so the check is
one primary-key query (users LEFT JOIN registration_passwords), cached per
user in this process for ``registration.session_check_ttl`` seconds (default
10). The process that performs a reset forgets its cached entry right after
the commit; other processes, and every process after a user is deleted, pick
the change up within the TTL. Set the TTL to 0 to query on every read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from app.registration.interfaces import ISessionGuard
from app.registration.store import CredentialStore

log = logging.getLogger(__name__)

CLAIM = "pwv"
MAX_ENTRIES = 50_000
_REQUEST_ATTR = "_registration_session_version"


def remember_session_version(request, user_id: str | int, version: int) -> None:
    """Note a version read in this request (by the password check) for the sign-in."""
    setattr(request, _REQUEST_ATTR, (str(user_id), version))


@implementer(ISessionGuard)
class SessionGuard:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[int | None, float]] = {}
        self._lock = threading.Lock()

    def version(self, request, user_id: str, *, fresh: bool = False) -> int | None:
        """The user's session version, or None when the user does not exist."""
        now = self.clock()
        if not fresh and self.ttl > 0:
            cached = self._cache.get(user_id)
            if cached is not None and cached[1] > now:
                return cached[0]
        version = CredentialStore(request.dbsession).session_version(user_id)
        if self.ttl > 0:
            with self._lock:
                if len(self._cache) >= MAX_ENTRIES:
                    self._cache.clear()
                self._cache[user_id] = (version, now + self.ttl)
        return version

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._cache.pop(str(user_id), None)

    def forget_after_commit(self, request, user_id: str) -> None:
        """Drop the cached version once the reset is committed (not before:
        an aborted reset must not end anybody's session)."""

        def hook(committed: bool) -> None:
            if committed:
                self.forget(user_id)

        request.tm.get().addAfterCommitHook(hook)

    def jwt_callback(
        self,
        request,
        *,
        token: dict[str, Any],
        user=None,
        trigger: str | None = None,
        **kw: Any,
    ) -> dict[str, Any] | None:
        if user is not None and trigger in ("signIn", "signUp"):
            known = getattr(request, _REQUEST_ATTR, None)
            if known is not None and known[0] == str(user.id):
                version = known[1]
            else:  # another provider: read it now, never from the cache
                version = self.version(request, str(user.id), fresh=True)
            if version is None:  # not a database user: nothing to check later
                token.pop(CLAIM, None)
            else:
                token[CLAIM] = version
            return token
        sub = token.get("sub")
        if sub is None or CLAIM not in token:
            return token
        current = self.version(request, str(sub))
        if current is None:
            log.info("session ended: the user no longer exists user=%s", sub)
            return None
        try:
            issued = int(token[CLAIM])
        except (TypeError, ValueError):
            issued = -1
        if issued < current:
            log.info("session ended by password change user=%s", sub)
            return None
        return token

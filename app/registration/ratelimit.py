"""Throttling with the ``limits`` library: moving windows per action and key.

Actions and their limits come from settings (``ratelimit.signin_account``,
``signin_ip``, ``signup_ip``, ``reset_ip``, ``magic_link_ip``,
``mail_account``, in the ``limits`` notation ``5/minute;20/hour``).
Counters live in memory by default (one process) or in Redis when
``ratelimit.storage_url`` / ``REDIS_URL`` is set (shared by every process).
If the storage fails (Redis down), the attempt is let through and a warning
logged: throttling is a defence, not something that may take the site down.
``ratelimit.enabled = false`` switches everything off.

Keys: client addresses (IPv6 grouped by /64, since one host usually holds a
whole /64) and, per account, a SHA-256 of the normalised email (NFKC,
case-folded), so neither a storage dump nor Redis keys show addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
import unicodedata
from collections.abc import Callable

from limits import RateLimitItem
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from zope.interface import implementer

from app.registration.errors import TooManyAttempts
from app.registration.interfaces import IRateLimiter
from app.registration.settings import RateLimitSettings

log = logging.getLogger(__name__)

Pair = tuple[str, str]  # (action, key)


def client_key(request) -> str:
    """The client's address as a throttling key (IPv6 grouped by /64).

    Behind a proxy, configure the WSGI server to put the real client in
    ``REMOTE_ADDR`` (waitress: ``trusted_proxy`` and ``trusted_proxy_headers``).
    """
    # REMOTE_ADDR, not webob's client_addr: that one believes any
    # X-Forwarded-For header, so a client could pick a fresh address per try.
    addr = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def first_attempt(request) -> bool:
    """False on a pyramid_retry re-run, so one submission counts once."""
    return not request.environ.get("retry.attempt")


def account_key(email: str) -> str:
    """The throttling key of an email address: equivalent spellings share it."""
    normal = unicodedata.normalize("NFKC", email).strip().casefold()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:32]


@implementer(IRateLimiter)
class RateLimiter:
    def __init__(
        self, settings: RateLimitSettings, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.enabled = settings.enabled
        self.clock = clock
        self.storage = None
        self.strategy = None
        if self.enabled:
            options = {}
            if settings.storage_url.startswith(("redis", "rediss")):
                # Fail fast (and let the request through) when Redis is away.
                options = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}
            self.storage = storage_from_string(settings.storage_url, **options)
            self.strategy = MovingWindowRateLimiter(self.storage)

    def _items(self, action: str) -> tuple[RateLimitItem, ...]:
        return self.settings.limits[action]

    def _ids(self, action: str, key: str) -> tuple[str, str, str]:
        return (self.settings.key_prefix, action, key)

    def _storage_failed(self, exc: Exception) -> None:
        log.warning(
            "rate limit storage %s unavailable (%s: %s); letting the attempt through",
            self.settings.storage_url.split("://", 1)[0],
            type(exc).__name__,
            str(exc)[:200],
        )

    def _wait(self, item: RateLimitItem, ids: tuple[str, ...]) -> int:
        stats = self.strategy.get_window_stats(item, *ids)
        return max(1, math.ceil(stats.reset_time - self.clock()))

    def _over(self, pairs: tuple[Pair, ...]) -> list[tuple[str, int]]:
        """Count one attempt per limit; ``(action, wait)`` for each limit it is over.

        The storage's ``hit`` adds the entry and checks the limit in one step
        (a lock in memory, a Lua script in Redis) and adds nothing to a limit
        that is already reached: N concurrent attempts never pass more than
        the limit allows, and attempts refused by a limit do not lengthen its
        wait.
        """
        over = []
        for action, key in pairs:
            ids = self._ids(action, key)
            for item in self._items(action):
                if not self.strategy.hit(item, *ids):
                    over.append((action, self._wait(item, ids)))
        return over

    def attempt(self, *pairs: Pair) -> int | None:
        """Count an attempt against each ``(action, key)``; the wait if over a limit.

        Returns the seconds to wait when any limit is exceeded (the attempt
        must then be refused without doing the work), else None.
        """
        refused = self._attempt(pairs)
        return refused[1] if refused else None

    def consume(self, *pairs: Pair) -> None:
        """Count an attempt; raise :class:`TooManyAttempts` if it is over a limit."""
        refused = self._attempt(pairs)
        if refused:
            raise TooManyAttempts(*refused)

    def _attempt(self, pairs: tuple[Pair, ...]) -> tuple[str, int] | None:
        """``(actions over their limit, seconds to wait)``, or None to go ahead."""
        if not self.enabled:
            return None
        try:
            over = self._over(pairs)
        except Exception as exc:  # noqa: BLE001 - any storage failure lets it through
            self._storage_failed(exc)
            return None
        if not over:
            return None
        actions = ",".join(dict.fromkeys(action for action, _ in over))
        wait = max(w for _, w in over)
        log.info("throttled action=%s retry_after=%s", actions, wait)
        return actions, wait

    def clear(self, action: str, key: str) -> None:
        """Forget every attempt counted for ``(action, key)``.

        ``limits`` has no decrement, so this is how a success is refunded:
        the whole window of that key starts again.
        """
        if not self.enabled:
            return
        try:
            for item in self._items(action):
                self.strategy.clear(item, *self._ids(action, key))
        except Exception as exc:  # noqa: BLE001
            self._storage_failed(exc)

"""OAuth checks as Auth.js (``callback/oauth/checks.ts``): PKCE, state and nonce.

Each check is a create/use pair. :func:`create` runs on ``POST signin/<id>``:
it makes a fresh value per enabled check, hands the provider what goes into
the authorization URL, and leaves the value behind in a short-lived cookie.
:func:`use` runs on ``callback/<id>``: it reads those cookies, clears them
(``Max-Age=0``: a check value is good for one callback only) and returns
what they held; :meth:`UsedChecks.require` and :meth:`UsedChecks.verify_state`
raise :class:`~app.auth.errors.InvalidCheck` when one is missing, expired,
forged, made for another provider or does not match.

The cookies are what Auth.js writes (spec §2 and §7): names from
:class:`~app.auth.cookies.CookieNames` (``authjs.pkce.code_verifier``,
``authjs.state``, ``authjs.nonce``, ``__Secure-`` on https), each value a JWE
made with the core's codec, salted with that cookie's own name, 15 minutes
long, payload ``{"value": ..., "provider": <id>}``. The ``state`` value is
itself a JWE (salt ``encodedState``, payload ``{"random": ...}``) as in
Auth.js. PKCE and state cookies carry ``Max-Age=900`` and ``Expires``; the
nonce cookie only ``Expires``, as Auth.js's defaults. With
``response_mode=form_post`` the provider POSTs back cross-site, so state
and nonce cookies are ``SameSite=None; Secure`` then.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.auth import cookies
from app.auth.errors import InvalidCheck, JWTError

if TYPE_CHECKING:
    from app.auth.providers.base import ProviderContext

log = logging.getLogger(__name__)

PKCE, STATE, NONCE = "pkce", "state", "nonce"
KNOWN_CHECKS = (PKCE, STATE, NONCE)
MAX_AGE = cookies.CHECK_MAX_AGE  # 900 s
STATE_SALT = "encodedState"


def validate_checks(checks: Iterable[str]) -> tuple[str, ...]:
    """The checks in a canonical order; ``ValueError`` for an unknown one."""
    wanted = tuple(dict.fromkeys(checks))
    unknown = [c for c in wanted if c not in KNOWN_CHECKS]
    if unknown:
        raise ValueError(
            f"unknown OAuth check(s) {', '.join(unknown)}; use pkce, state, nonce"
        )
    return tuple(c for c in KNOWN_CHECKS if c in wanted)


def cookie_name(flow: ProviderContext, check: str) -> str:
    names = flow.names
    return {PKCE: names.pkce_code_verifier, STATE: names.state, NONCE: names.nonce}[
        check
    ]


def _same_site(check: str, form_post: bool) -> tuple[str, bool]:
    """(SameSite, force Secure) for a check cookie."""
    if form_post and check in (STATE, NONCE):
        return "None", True
    return "Lax", False


@dataclass(frozen=True)
class NewChecks:
    """Values made for one authorization request (``None`` when a check is off)."""

    code_verifier: str | None = None
    state: str | None = None
    nonce: str | None = None


def create(
    flow: ProviderContext,
    provider_id: str,
    checks: Iterable[str],
    *,
    form_post: bool = False,
) -> NewChecks:
    """Make a value for each check and queue its cookie on ``flow``."""
    codec = flow.codec
    values: dict[str, str] = {}
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=MAX_AGE)
    for check in checks:
        if check == PKCE:
            # 32 random bytes, base64url: 43 characters, as oauth4webapi makes them.
            value = secrets.token_urlsafe(32)
        elif check == STATE:
            value = codec.encode(
                {"random": secrets.token_urlsafe(32)}, salt=STATE_SALT, max_age=MAX_AGE
            )
        else:
            value = secrets.token_urlsafe(32)
        values[check] = value
        name = cookie_name(flow, check)
        same_site, force_secure = _same_site(check, form_post)
        sealed = codec.encode(
            {"value": value, "provider": provider_id}, salt=name, max_age=MAX_AGE
        )
        flow.set_cookies.append(
            cookies.serialize(
                name,
                sealed,
                secure=flow.secure or force_secure,
                max_age=None if check == NONCE else MAX_AGE,
                expires=expires,
                same_site=same_site,
            )
        )
    log.debug("checks created provider=%s checks=%s", provider_id, ",".join(values))
    return NewChecks(values.get(PKCE), values.get(STATE), values.get(NONCE))


@dataclass
class UsedChecks:
    """What the check cookies of a callback held, and why any is unusable."""

    provider_id: str
    enabled: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def require(self, check: str) -> str | None:
        """An enabled check's value, or :class:`InvalidCheck`; ``None`` when off."""
        if check not in self.enabled:
            return None
        value = self.values.get(check)
        if value is None:
            raise InvalidCheck(
                f"{check} check failed for provider={self.provider_id}: "
                f"{self.problems.get(check, 'cookie missing')}"
            )
        return value

    def verify_state(self, received: object) -> None:
        """The ``state`` the provider sent back must equal the cookie's."""
        expected = self.require(STATE)
        if expected is None:
            return
        if not isinstance(received, str) or not received:
            raise InvalidCheck(
                f"state check failed for provider={self.provider_id}: "
                "no state parameter in the callback"
            )
        if not hmac.compare_digest(received.encode(), expected.encode()):
            raise InvalidCheck(
                f"state check failed for provider={self.provider_id}: "
                "state parameter does not match the cookie"
            )


def use(
    flow: ProviderContext,
    provider_id: str,
    checks: Iterable[str],
    *,
    form_post: bool = False,
) -> UsedChecks:
    """Read and clear the check cookies of a callback; never raises by itself."""
    enabled = tuple(checks)
    used = UsedChecks(provider_id, enabled)
    for check in KNOWN_CHECKS:
        name = cookie_name(flow, check)
        raw = flow.cookie(name)
        if raw is None:
            continue
        # A check value is single use: clear the cookie whatever happens next.
        same_site, force_secure = _same_site(check, form_post)
        flow.set_cookies.append(
            cookies.deletion(
                name, secure=flow.secure or force_secure, same_site=same_site
            )
        )
        if check not in enabled:
            continue
        try:
            payload = flow.codec.decode(raw, salt=name)
        except JWTError as exc:
            used.problems[check] = f"cookie unreadable ({exc})"
            continue
        value = payload.get("value")
        if payload.get("provider") != provider_id:
            used.problems[check] = "cookie was made for another provider"
        elif not isinstance(value, str) or not value:
            used.problems[check] = "cookie holds no value"
        else:
            used.values[check] = value
    return used

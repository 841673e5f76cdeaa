"""Reading, issuing, renewing and ending sessions (Auth.js ``actions/session.ts``).

Two strategies, as Auth.js: ``jwt`` (the default: the whole session is an
encrypted cookie, nothing on the server) and ``database`` (the cookie holds a
random token naming a row in ``sessions``). The session of a request is
read once and cached on the request; the security policy and the ``session``
endpoint share that one read.

Beyond Auth.js, a session has an absolute lifetime
(``auth.session.absolute_max_age``, counted from the sign-in: the JWT's
``auth_time`` claim, the row's ``created``): renewals never carry it past
that, so a copied cookie cannot be kept alive forever by polling.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from app.auth.callbacks import default_session
from app.auth.cookies import SessionStore
from app.auth.errors import AccessDenied, JWTError
from app.auth.events import SessionUpdated
from app.auth.interfaces import AdapterAccount, AdapterSession, AdapterUser, IAdapter

if TYPE_CHECKING:
    from app.auth.flow import AuthFlow

log = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(when: dt.datetime) -> str:
    """``2026-12-25T13:08:54.253Z``: JavaScript's ``Date.toISOString``."""
    t = when.astimezone(dt.UTC)
    return f"{_iso_second(t)}.{t.microsecond // 1000:03d}Z"


@lru_cache(maxsize=4)  # one entry serves every session renewed in a second
def _expiry(second: int, max_age: int) -> tuple[dt.datetime, str]:
    """The expiry of a session renewed during epoch ``second``, and its ISO
    text to the second (the caller adds the milliseconds)."""
    expires = dt.datetime.fromtimestamp(second + max_age, dt.UTC)
    return expires, _iso_second(expires)


def _iso_second(t: dt.datetime) -> str:
    """``2026-12-25T13:08:54``: the date and time of a UTC datetime, to the second."""
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:"
        f"{t.second:02d}"
    )


@dataclass(frozen=True)
class Identity:
    """The signed-in person, as ``request.identity`` gives it."""

    id: str
    name: str | None = None
    email: str | None = None
    image: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)
    session_token: str | None = None

    def __str__(self) -> str:
        return self.name or self.email or self.id


@dataclass(slots=True)
class SessionState:
    """What the request's session cookie turned out to be."""

    store: SessionStore
    token: dict[str, Any] | None = None  # JWT claims after the jwt callbacks
    auth_time: int | None = None  # JWT: the original sign-in, epoch seconds
    db: tuple[AdapterSession, AdapterUser] | None = None
    invalid: bool = False  # a cookie was sent but is unusable: clear it


def _auth_time(claims: Mapping[str, Any]) -> int | None:
    """When the session behind a JWT began: its ``auth_time`` claim.

    A token made before the core wrote ``auth_time`` counts from its ``iat``
    (its last renewal), the latest time it can be proven to exist; its
    renewal then carries that value on, so the limit holds from there.
    """
    for claim in ("auth_time", "iat"):
        value = claims.get(claim)
        if type(value) is int:
            return value
    return None


def adapter(request) -> Any:
    return request.find_service(IAdapter)


def read_session(flow: AuthFlow) -> SessionState:
    """Decode the session cookie (and run the ``jwt`` callbacks) once per request."""
    store = SessionStore(flow.names.session_token, flow.cookies, secure=flow.secure)
    state = SessionState(store)
    raw = store.value
    if raw is None:
        state.invalid = bool(store.present)
        if state.invalid:
            log.info(
                "session cookie rejected: %d chunk(s), too many or not "
                "percent-decodable",
                len(store.present),
            )
        return state
    if flow.settings.session_strategy == "database":
        _read_database(flow, state, raw)
    else:
        _read_jwt(flow, state, raw)
    return state


def _read_jwt(flow: AuthFlow, state: SessionState, raw: str) -> None:
    try:
        claims = flow.core.codec.decode(raw, salt=flow.names.session_token)
    except JWTError as exc:
        log.info("session cookie rejected: %s", exc)
        state.invalid = True
        return
    auth_time = _auth_time(claims)
    if (
        auth_time is None
        or time.time() >= auth_time + flow.settings.session_absolute_max_age
    ):
        # Past auth.session.absolute_max_age since the sign-in: however often
        # it was renewed (or replayed), this session is over.
        log.info("session cookie rejected: past its absolute lifetime")
        state.invalid = True
        return
    state.auth_time = auth_time
    # POST session asks for trigger="update" before the first read, so the jwt
    # callbacks run once per request, as in Auth.js.
    token = flow.core.callbacks.run_jwt(flow.request, claims, **flow.jwt_read_arguments)
    if token is None:
        log.info("jwt callback ended session sub=%s", claims.get("sub"))
        state.invalid = True
        return
    state.token = token


def _read_database(flow: AuthFlow, state: SessionState, raw: str) -> None:
    if len(raw) > 255:
        log.info("session cookie rejected: token longer than 255 characters")
        state.invalid = True
        return
    store = adapter(flow.request)
    found = store.get_session_and_user(raw)
    if found is None:
        log.info("session cookie rejected: no such database session")
        state.invalid = True
        return
    session, _ = found
    now = utcnow()
    if session.expires < now:
        log.info(
            "session cookie rejected: database session expired user=%s", session.user_id
        )
        store.delete_session(raw)
        state.invalid = True
        return
    # A row without ``created`` was not written by this core (the migration
    # dated the older ones): with no sign-in time, no absolute limit can be
    # kept, so it does not count as a session.
    if session.created is None or now >= session.created + dt.timedelta(
        seconds=flow.settings.session_absolute_max_age
    ):
        log.info(
            "session cookie rejected: database session past its absolute "
            "lifetime user=%s",
            session.user_id,
        )
        store.delete_session(raw)
        state.invalid = True
        return
    state.db = found


def identity_of(state: SessionState) -> Identity | None:
    if state.token is not None:
        token = state.token
        sub = token.get("sub")
        if sub is None:
            return None
        return Identity(
            id=str(sub),
            name=token.get("name"),
            email=token.get("email"),
            image=token.get("picture"),
            claims=token,
        )
    if state.db is not None:
        session, user = state.db
        return Identity(
            id=user.id,
            name=user.name,
            email=user.email,
            image=user.image,
            session_token=session.session_token,
        )
    return None


# renewing --------------------------------------------------------------------
def session_response_body(
    flow: AuthFlow, *, update: Any = None, is_update: bool = False
) -> dict[str, Any] | None:
    """``GET``/``POST session``: the session JSON, re-issuing the cookie (§1.3-1.4, §5)."""
    if is_update:
        flow.jwt_read_arguments = {"trigger": "update", "session": update}
    state = flow.session_state
    request = flow.request
    callbacks = flow.core.callbacks
    settings = flow.settings
    if state.token is None and state.db is None:
        if state.invalid:
            flow.set_cookies.extend(state.store.clear())
        return None
    trigger = "update" if is_update else None
    token = state.token
    user = None
    if token is not None:
        # JWT: the answer's expiry is now + maxAge, and a fresh token rolls it,
        # but never past the absolute limit (sign-in + absolute_max_age).
        now_ts = time.time()
        second = int(now_ts)
        auth_time: int = state.auth_time  # type: ignore[assignment]
        max_age = min(
            settings.session_max_age,
            auth_time + settings.session_absolute_max_age - second,
        )
        expires, expires_iso = _expiry(second, max_age)
        session = default_session(token)
        session["expires"] = f"{expires_iso}.{int((now_ts - second) * 1000):03d}Z"
        # The sign-in time is the core's: carried over whatever the jwt
        # callbacks returned, so no renewal can move it.
        cookie_value = flow.core.codec.encode(
            {**token, "auth_time": auth_time},
            salt=flow.names.session_token,
            max_age=max_age,
            now=now_ts,
        )
    else:
        now = utcnow()
        # Database: the row moves at most once per update_age; the answer
        # shows its expiry as read (Auth.js), the cookie is rolled regardless;
        # neither goes past created + absolute_max_age.
        db_session, user = state.db  # type: ignore[misc]
        expires = min(
            now + dt.timedelta(seconds=settings.session_max_age),
            db_session.created  # type: ignore[operator]
            + dt.timedelta(seconds=settings.session_absolute_max_age),
        )
        refresh_after = db_session.expires - dt.timedelta(
            seconds=settings.session_max_age - settings.session_update_age
        )
        if refresh_after <= now and expires > db_session.expires:
            adapter(request).update_session(db_session.session_token, expires)
        session = default_session(
            {"name": user.name, "email": user.email, "picture": user.image}
        )
        session["expires"] = iso(db_session.expires)
        cookie_value = db_session.session_token
    session = callbacks.run_session(
        request,
        session,
        token=token,
        user=user,
        trigger=trigger,
        new_session=update if is_update else None,
    )
    flow.set_cookies.extend(state.store.set(cookie_value, expires=expires))
    registry = request.registry
    if registry.has_listeners:
        registry.notify(SessionUpdated(request, session, token, trigger))
    return session


# starting and ending ------------------------------------------------------------
def start_session(
    flow: AuthFlow,
    user: AdapterUser,
    *,
    account: AdapterAccount | None = None,
    profile: Mapping[str, Any] | None = None,
    is_new_user: bool = False,
    strategy: str | None = None,
) -> None:
    """Issue the session cookie for ``user`` (the end of every successful sign-in)."""
    settings = flow.settings
    strategy = strategy or settings.session_strategy
    # absolute_max_age >= max_age (settings), so a new session needs no cap.
    now = utcnow()
    expires = now + dt.timedelta(seconds=settings.session_max_age)
    state = flow.session_state
    if strategy == "database":
        # Signing in replaces whatever session this browser had.
        if state.db is not None:
            adapter(flow.request).delete_session(state.db[0].session_token)
        # 256 random bits (Auth.js: a UUIDv4, 122 bits; ASVS asks for 128).
        token = secrets.token_urlsafe(32)
        adapter(flow.request).create_session(token, user.id, expires, created=now)
        flow.set_cookies.extend(state.store.set(token, expires=expires))
        return
    auth_time = int(now.timestamp())
    claims = {
        k: v
        for k, v in (
            ("name", user.name),
            ("email", user.email),
            ("picture", user.image),
            ("sub", user.id),
        )
        if v is not None
    }
    token = flow.core.callbacks.run_jwt(
        flow.request,
        claims,
        user=user,
        account=account,
        profile=profile,
        is_new_user=is_new_user,
        trigger="signUp" if is_new_user else "signIn",
    )
    if token is None:
        raise AccessDenied("jwt callback refused the sign-in")
    # The sign-in time that auth.session.absolute_max_age counts from.
    encoded = flow.core.codec.encode(
        {**token, "auth_time": auth_time},
        salt=flow.names.session_token,
        max_age=settings.session_max_age,
    )
    flow.set_cookies.extend(state.store.set(encoded, expires=expires))


def end_session(flow: AuthFlow) -> tuple[Mapping[str, Any] | None, str | None]:
    """Clear the session cookies (and the database row); return what was ended."""
    state = flow.session_state
    token = None
    session_token = None
    if flow.settings.session_strategy == "database":
        raw = state.store.value
        if raw:
            adapter(flow.request).delete_session(raw)
            session_token = raw
    else:
        raw = state.store.value
        if raw:
            try:
                token = flow.core.codec.decode(raw, salt=flow.names.session_token)
            except JWTError:
                token = None
    flow.set_cookies.extend(state.store.clear())
    return token, session_token

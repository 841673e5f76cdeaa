"""Reading, issuing, renewing and ending sessions (Auth.js ``actions/session.ts``).

Two strategies, as Auth.js: ``jwt`` (the default: the whole session is an
encrypted cookie, nothing on the server) and ``database`` (the cookie holds a
random token naming a row in ``sessions``).

:class:`SessionService` does the work with explicit inputs and outputs: the
session cookie as the browser sent it (:class:`SessionCookie`) and the
adapter in, a :class:`SessionResult` (the session, claims or row, identity,
and the ``Set-Cookie`` headers to send) out. It knows nothing of Pyramid:
the request is only the opaque value handed to the callbacks. Each action
runs the ``jwt`` and ``session`` callbacks itself with its own trigger, so
whatever read the session earlier in a request (a tween, pyramid_tm's
``tm.annotate_user``), ``POST session`` still runs them with
``trigger="update"``.

Beyond Auth.js, a session has an absolute lifetime
(``auth.session.absolute_max_age``, counted from the sign-in: the JWT's
``auth_time`` claim, the row's ``created``): renewals never carry it past
that, so a copied cookie cannot be kept alive forever by polling.

Also beyond Auth.js, a session registry: every sign-in, whatever the
strategy, writes a :class:`~app.auth.interfaces.SessionRecord` (who, when,
last seen, the client's summary and address). A database session's row
points at its record; a JWT carries its record's id as the ``sid`` claim,
and reading it looks the record up at most once per
``auth.session.check_interval`` seconds per process (:class:`SessionChecks`,
the per-process memo, lives on the core). Ending a record (sign-out, "sign
out that device", a password reset) ends the session: at once in the
process that ended it, within the interval in the others. With the interval
at 0 a JWT is never looked up (Auth.js's stateless sessions): a copied
cookie then stays valid until it expires, except in the process that signed
it out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.auth.callbacks import Callbacks, default_session
from app.auth.clients import summarize_user_agent
from app.auth.cookies import SessionStore
from app.auth.errors import AccessDenied, JWTError
from app.auth.interfaces import (
    AdapterAccount,
    AdapterSession,
    AdapterUser,
    IAdapter,
    SessionRecord,
)
from app.auth.jwt import JWTCodec
from app.auth.settings import AuthSettings

log = logging.getLogger(__name__)

#: The JWT claim naming the session's registry record.
SESSION_ID_CLAIM = "sid"
#: Seconds between two writes of one session's ``last_seen``.
TOUCH_INTERVAL = 60
#: Longest session id read from a token (ours are 43 characters).
MAX_SESSION_ID = 64


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(when: dt.datetime) -> str:
    """``2026-12-25T13:08:54.253Z``: JavaScript's ``Date.toISOString``."""
    t = when.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Identity:
    """The signed-in person, as ``request.identity`` gives it."""

    id: str
    name: str | None = None
    email: str | None = None
    image: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name or self.email or self.id


@dataclass(frozen=True)
class ClientInfo:
    """Who is signing in, as the request shows it: for the registry's record."""

    user_agent: str = ""
    address: str = ""


class SessionChecks:
    """This process's memo of registry look-ups for JWT sessions.

    ``state(sid)`` is ``True`` when the record was found less than
    ``interval`` seconds ago, ``False`` when the session is known to have
    ended (looked up and gone, or ended by this process), ``None`` when it
    must be looked up. With ``interval`` 0 nothing is ever looked up: a
    session is alive unless this process ended it. At most ``max_entries``
    sessions are remembered, the least recently written forgotten first (a
    forgotten one is looked up again; with ``interval`` 0, a forgotten ended
    one is taken as alive again, which is stateless mode's bargain).
    """

    def __init__(
        self,
        interval: float,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.max_entries = max_entries
        self.clock = clock
        # sid -> monotonic time until which it is trusted; None: ended.
        self._entries: OrderedDict[str, float | None] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def state(self, sid: str) -> bool | None:
        entry = self._entries.get(sid, 0.0)
        if entry is None:
            return False
        if self.interval <= 0:
            return True
        return True if entry > self.clock() else None

    def alive(self, sid: str) -> None:
        if self.interval > 0:
            self._put(sid, self.clock() + self.interval)

    def ended(self, sid: str) -> None:
        self._put(sid, None)

    def _put(self, sid: str, value: float | None) -> None:
        with self._lock:
            entries = self._entries
            entries[sid] = value
            entries.move_to_end(sid)
            while len(entries) > self.max_entries:
                entries.popitem(last=False)


@dataclass(frozen=True)
class SessionCookie:
    """The session cookie of one request: what the service reads and replaces.

    ``cookies`` are the request's cookies with their values still
    percent-encoded (``cookies.parse_header``); ``name`` is the session
    token's cookie name (chunks are ``name.0``, ``name.1``...); ``secure``
    makes the replacement cookies ``Secure``.
    """

    cookies: Mapping[str, str]
    name: str
    secure: bool

    def store(self) -> SessionStore:
        return SessionStore(self.name, self.cookies, secure=self.secure)


@dataclass
class SessionResult:
    """What one session action found or did.

    ``token`` is the JWT's claims after the jwt callbacks, ``db`` the
    database session and its user; ``body`` is what ``GET``/``POST
    session`` answers (renew and update only); ``set_cookies`` are the
    ``Set-Cookie`` header values to send; ``invalid`` says a cookie was sent
    but is unusable (and ``set_cookies`` clears it where the action answers).
    """

    token: dict[str, Any] | None = None
    auth_time: int | None = None  # JWT: the original sign-in, epoch seconds
    db: tuple[AdapterSession, AdapterUser] | None = None
    #: the session's registry record id (JWT: its ``sid`` claim)
    session_id: str | None = None
    invalid: bool = False
    body: dict[str, Any] | None = None
    set_cookies: list[str] = field(default_factory=list)

    @property
    def identity(self) -> Identity | None:
        if self.token is not None:
            sub = self.token.get("sub")
            if sub is None:
                return None
            return Identity(
                id=str(sub),
                name=self.token.get("name"),
                email=self.token.get("email"),
                image=self.token.get("picture"),
                claims=self.token,
            )
        if self.db is not None:
            _, user = self.db
            return Identity(
                id=user.id, name=user.name, email=user.email, image=user.image
            )
        return None


@dataclass
class EndedSession:
    """What :meth:`SessionService.end` ended: the JWT's claims as stored (no
    callbacks run) or the database session's token, and the ``Set-Cookie``
    headers that clear the cookie."""

    token: dict[str, Any] | None = None
    session_token: str | None = None
    session_id: str | None = None
    set_cookies: list[str] = field(default_factory=list)


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


class SessionService:
    """The session actions of one core; one instance serves every request.

    ``adapter`` holds the database sessions and the registry records. A JWT
    read touches it only when :attr:`checks` asks for a look-up, so pass an
    object that opens the database lazily.
    """

    def __init__(
        self,
        settings: AuthSettings,
        codec: JWTCodec,
        callbacks: Callbacks,
        checks: SessionChecks | None = None,
    ) -> None:
        self.settings = settings
        self.codec = codec
        self.callbacks = callbacks
        self.checks = (
            checks
            if checks is not None
            else SessionChecks(settings.session_check_interval)
        )

    # reading ---------------------------------------------------------------------
    def read(
        self, request: Any, adapter: IAdapter | None, cookie: SessionCookie
    ) -> SessionResult:
        """Who the cookie says is signed in: the jwt callbacks run without a trigger."""
        return self._read(request, adapter, cookie, {})

    def _read(
        self,
        request: Any,
        adapter: IAdapter | None,
        cookie: SessionCookie,
        jwt_arguments: Mapping[str, Any],
    ) -> SessionResult:
        store = cookie.store()
        result = SessionResult()
        raw = store.value
        if raw is None:
            result.invalid = bool(store.present)
            if result.invalid:
                log.info(
                    "session cookie rejected: %d chunk(s), too many or not "
                    "percent-decodable",
                    len(store.present),
                )
        elif self.settings.session_strategy == "database":
            self._read_database(adapter, result, raw)
        else:
            self._read_jwt(request, adapter, cookie, result, raw, jwt_arguments)
        return result

    def _read_jwt(
        self,
        request: Any,
        adapter: IAdapter | None,
        cookie: SessionCookie,
        result: SessionResult,
        raw: str,
        jwt_arguments: Mapping[str, Any],
    ) -> None:
        try:
            claims = self.codec.decode(raw, salt=cookie.name)
        except JWTError as exc:
            log.info("session cookie rejected: %s", exc)
            result.invalid = True
            return
        auth_time = _auth_time(claims)
        if (
            auth_time is None
            or time.time() >= auth_time + self.settings.session_absolute_max_age
        ):
            # Past auth.session.absolute_max_age since the sign-in: however
            # often it was renewed (or replayed), this session is over.
            log.info("session cookie rejected: past its absolute lifetime")
            result.invalid = True
            return
        sid = claims.get(SESSION_ID_CLAIM)
        if not self._registered(adapter, sid):
            result.invalid = True
            return
        result.session_id = sid
        result.auth_time = auth_time
        token = self.callbacks.run_jwt(request, claims, **jwt_arguments)
        if token is None:
            log.info("jwt callback ended session sub=%s", claims.get("sub"))
            result.invalid = True
            return
        result.token = token

    def _registered(self, adapter: IAdapter | None, sid: Any) -> bool:
        """Whether a JWT's session is still in the registry (as far as this
        process must know: see :class:`SessionChecks`)."""
        if not isinstance(sid, str) or not sid or len(sid) > MAX_SESSION_ID:
            if self.settings.session_check_interval <= 0:
                return True  # stateless: a token made elsewhere (Auth.js) is fine
            log.info("session cookie rejected: no session id")
            return False
        state = self.checks.state(sid)
        if state is not None:
            if not state:
                log.info("session cookie rejected: session ended")
            return state
        assert adapter is not None, "the session registry needs an adapter"
        record = adapter.get_session_record(sid)
        if record is None:
            log.info("session cookie rejected: session ended")
            self.checks.ended(sid)
            return False
        self.checks.alive(sid)
        now = utcnow()
        if now - record.last_seen >= dt.timedelta(seconds=TOUCH_INTERVAL):
            adapter.touch_session_record(
                sid, now, self._jwt_record_expiry(record.created, now)
            )
        return True

    def _jwt_record_expiry(self, created: dt.datetime, now: dt.datetime):
        """The latest a JWT session can be valid, as the server knows it.

        Its token expires ``max_age`` after its last renewal, a renewal
        follows a read, and a read is looked up at most ``check_interval``
        seconds before and touches the record if it is over
        :data:`TOUCH_INTERVAL` old: so the record's ``last_seen`` plus those
        three bounds the token. Never past the absolute lifetime; unbounded
        by reads (absolute lifetime) when reads never look.
        """
        settings = self.settings
        end = created + dt.timedelta(seconds=settings.session_absolute_max_age)
        if settings.session_check_interval <= 0:
            return end
        slack = settings.session_max_age + settings.session_check_interval
        return min(end, now + dt.timedelta(seconds=slack + TOUCH_INTERVAL))

    def _read_database(
        self, adapter: IAdapter | None, result: SessionResult, raw: str
    ) -> None:
        if len(raw) > 255:
            log.info("session cookie rejected: token longer than 255 characters")
            result.invalid = True
            return
        assert adapter is not None, "the database strategy needs an adapter"
        found = adapter.get_session_and_user(raw)
        if found is None:
            log.info("session cookie rejected: no such database session")
            result.invalid = True
            return
        session, _ = found
        now = utcnow()
        if session.expires < now:
            log.info(
                "session cookie rejected: database session expired user=%s",
                session.user_id,
            )
            adapter.delete_session(raw)
            result.invalid = True
            return
        # A row without ``created`` was not written by this core (the migration
        # dated the older ones): with no sign-in time, no absolute limit can be
        # kept, so it does not count as a session.
        if session.created is None or now >= session.created + dt.timedelta(
            seconds=self.settings.session_absolute_max_age
        ):
            log.info(
                "session cookie rejected: database session past its absolute "
                "lifetime user=%s",
                session.user_id,
            )
            adapter.delete_session(raw)
            result.invalid = True
            return
        result.db = found
        result.session_id = session.record_id
        if (
            session.record_id is not None
            and session.last_seen is not None
            and now - session.last_seen >= dt.timedelta(seconds=TOUCH_INTERVAL)
        ):
            adapter.touch_session_record(session.record_id, now)

    # renewing ----------------------------------------------------------------------
    def renew(
        self,
        request: Any,
        adapter: IAdapter | None,
        cookie: SessionCookie,
        read: SessionResult | None = None,
    ) -> SessionResult:
        """``GET session``: the session JSON, re-issuing the cookie (§1.3, §5).

        ``read`` is this request's :meth:`read` of ``cookie`` when it was
        already made (the jwt callbacks then run once per request, as in
        Auth.js); without it the cookie is read here.
        """
        if read is None:
            read = self.read(request, adapter, cookie)
        return self._answer(request, adapter, cookie, read, trigger=None, update=None)

    def update(
        self, request: Any, adapter: IAdapter | None, cookie: SessionCookie, data: Any
    ) -> SessionResult:
        """``POST session``: as :meth:`renew`, with ``data`` handed to the
        callbacks (jwt: ``trigger="update", session=data``; session:
        ``new_session=data``) (§1.4).

        The cookie is always read afresh from its raw claims, so an earlier
        read of the request (without a trigger) cannot stand in for this one.
        """
        read = self._read(
            request, adapter, cookie, {"trigger": "update", "session": data}
        )
        return self._answer(
            request, adapter, cookie, read, trigger="update", update=data
        )

    def _answer(
        self,
        request: Any,
        adapter: IAdapter | None,
        cookie: SessionCookie,
        read: SessionResult,
        *,
        trigger: str | None,
        update: Any,
    ) -> SessionResult:
        store = cookie.store()
        result = SessionResult(
            token=read.token,
            auth_time=read.auth_time,
            db=read.db,
            session_id=read.session_id,
            invalid=read.invalid,
        )
        if read.token is None and read.db is None:
            if read.invalid:
                result.set_cookies = store.clear()
            return result
        settings = self.settings
        token = read.token
        user = None
        if token is not None:
            # JWT: the answer's expiry is now + maxAge, and a fresh token rolls
            # it, but never past the absolute limit (sign-in + absolute_max_age).
            now_ts = time.time()
            auth_time: int = read.auth_time  # type: ignore[assignment]
            max_age = min(
                settings.session_max_age,
                auth_time + settings.session_absolute_max_age - int(now_ts),
            )
            expires = dt.datetime.fromtimestamp(now_ts + max_age, dt.UTC)
            session = default_session(token)
            session["expires"] = iso(expires)
            # The sign-in time and session id are the core's: carried over
            # whatever the jwt callbacks returned, so no renewal can move them.
            core_claims: dict[str, Any] = {"auth_time": auth_time}
            if read.session_id is not None:
                core_claims[SESSION_ID_CLAIM] = read.session_id
            cookie_value = self.codec.encode(
                {**token, **core_claims},
                salt=cookie.name,
                max_age=max_age,
                now=now_ts,
            )
        else:
            now = utcnow()
            # Database: the row moves at most once per update_age; the answer
            # shows its expiry as read (Auth.js), the cookie is rolled
            # regardless; neither goes past created + absolute_max_age.
            db_session, user = read.db  # type: ignore[misc]
            expires = min(
                now + dt.timedelta(seconds=settings.session_max_age),
                db_session.created  # type: ignore[operator]
                + dt.timedelta(seconds=settings.session_absolute_max_age),
            )
            refresh_after = db_session.expires - dt.timedelta(
                seconds=settings.session_max_age - settings.session_update_age
            )
            if refresh_after <= now and expires > db_session.expires:
                assert adapter is not None
                adapter.update_session(db_session.session_token, expires)
            session = default_session(
                {"name": user.name, "email": user.email, "picture": user.image}
            )
            session["expires"] = iso(db_session.expires)
            cookie_value = db_session.session_token
        result.body = self.callbacks.run_session(
            request,
            session,
            token=token,
            user=user,
            trigger=trigger,
            new_session=update,
        )
        result.set_cookies = store.set(cookie_value, expires=expires)
        return result

    # starting and ending -------------------------------------------------------------
    def start(
        self,
        request: Any,
        adapter: IAdapter | None,
        cookie: SessionCookie,
        user: AdapterUser,
        *,
        account: AdapterAccount | None = None,
        profile: Mapping[str, Any] | None = None,
        is_new_user: bool = False,
        strategy: str | None = None,
        client: ClientInfo | None = None,
    ) -> SessionResult:
        """The session cookie for ``user`` (the end of every successful sign-in).

        Both strategies write the session's registry record (``client``: the
        User-Agent and address it shows). The jwt callbacks run with
        ``trigger="signIn"`` (``"signUp"`` for a new user); their refusal
        (None) is :class:`AccessDenied`.
        """
        settings = self.settings
        strategy = strategy or settings.session_strategy
        store = cookie.store()
        assert adapter is not None, "the session registry needs an adapter"
        client = client or ClientInfo()
        # absolute_max_age >= max_age (settings), so a new session needs no cap.
        now = utcnow()
        expires = now + dt.timedelta(seconds=settings.session_max_age)
        # 256 random bits (Auth.js: a UUIDv4, 122 bits; ASVS asks for 128).
        record = SessionRecord(
            id=secrets.token_urlsafe(32),
            subject=str(user.id),
            created=now,
            last_seen=now,
            expires=now + dt.timedelta(seconds=settings.session_absolute_max_age),
            strategy=strategy,
            client=summarize_user_agent(client.user_agent),
            address=client.address,
        )
        # Signing in replaces whatever session this browser had.
        previous = store.value
        if strategy == "database":
            if previous is not None and len(previous) <= 255:
                adapter.delete_session(previous)
            token = secrets.token_urlsafe(32)
            session = adapter.create_session(token, user.id, expires, created=now)
            adapter.create_session_record(record, session_token=token)
            session = dataclasses.replace(
                session, record_id=record.id, last_seen=record.last_seen
            )
            return SessionResult(
                db=(session, user),
                session_id=record.id,
                set_cookies=store.set(token, expires=expires),
            )
        if previous is not None:
            self._end_jwt(adapter, cookie, previous)
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
        claims = self.callbacks.run_jwt(
            request,
            claims,
            user=user,
            account=account,
            profile=profile,
            is_new_user=is_new_user,
            trigger="signUp" if is_new_user else "signIn",
        )
        if claims is None:
            raise AccessDenied("jwt callback refused the sign-in")
        record = dataclasses.replace(record, expires=self._jwt_record_expiry(now, now))
        adapter.create_session_record(record)
        # The sign-in time that auth.session.absolute_max_age counts from, and
        # the registry record that revokes it.
        encoded = self.codec.encode(
            {**claims, "auth_time": auth_time, SESSION_ID_CLAIM: record.id},
            salt=cookie.name,
            max_age=settings.session_max_age,
        )
        return SessionResult(
            token=claims,
            auth_time=auth_time,
            session_id=record.id,
            set_cookies=store.set(encoded, expires=expires),
        )

    def end(self, adapter: IAdapter | None, cookie: SessionCookie) -> EndedSession:
        """Sign-out: clear the session cookies and end the session's record
        (and the database row)."""
        store = cookie.store()
        raw = store.value
        ended = EndedSession(set_cookies=store.clear())
        if not raw:
            return ended
        assert adapter is not None, "the session registry needs an adapter"
        if self.settings.session_strategy == "database":
            if len(raw) <= 255:
                # the row's record goes with it (ON DELETE CASCADE)
                adapter.delete_session(raw)
            ended.session_token = raw
        else:
            ended.token = self._end_jwt(adapter, cookie, raw)
            if ended.token is not None:
                sid = ended.token.get(SESSION_ID_CLAIM)
                ended.session_id = sid if isinstance(sid, str) else None
        return ended

    def _end_jwt(
        self, adapter: IAdapter, cookie: SessionCookie, raw: str
    ) -> dict[str, Any] | None:
        """End the record a JWT names; its claims, or None if it is unreadable."""
        try:
            claims = self.codec.decode(raw, salt=cookie.name)
        except JWTError:
            return None
        sid = claims.get(SESSION_ID_CLAIM)
        sub = claims.get("sub")
        if isinstance(sid, str) and 0 < len(sid) <= MAX_SESSION_ID and sub is not None:
            self.end_sessions(adapter, str(sub), [sid])
        return claims

    # the registry: listing and ending a person's sessions ---------------------------
    def list_sessions(self, adapter: IAdapter, subject: str) -> list[SessionRecord]:
        """``subject``'s sessions that may still be valid, most recently seen first."""
        return adapter.list_session_records(str(subject), utcnow())

    def end_sessions(
        self,
        adapter: IAdapter,
        subject: str,
        session_ids: list[str] | None = None,
        *,
        keep: str | None = None,
    ) -> list[str]:
        """End ``subject``'s sessions named by ``session_ids`` (every one when
        None, except ``keep``); return the ids ended.

        An id that is not one of ``subject``'s sessions is left alone. This
        process forgets the ended ones at once; other processes within
        ``auth.session.check_interval``.
        """
        ended = adapter.delete_session_records(str(subject), session_ids, keep=keep)
        for sid in ended:
            self.checks.ended(sid)
        return ended

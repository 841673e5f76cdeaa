"""The session service alone: no Pyramid, no request, no web server.

The database strategy runs against a small in-memory adapter holding the
rows the service reads and writes (the adapter's own behaviour is covered by
the functional tests on SQLite and PostgreSQL).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pytest

from app.auth.callbacks import Callbacks
from app.auth.clients import summarize_user_agent
from app.auth.cookies import CHUNK_SIZE, MAX_CHUNKS
from app.auth.errors import AccessDenied
from app.auth.interfaces import AdapterSession, AdapterUser, SessionRecord
from app.auth.jwt import JWTCodec
from app.auth.sessions import ClientInfo, SessionChecks, SessionCookie, SessionService
from app.auth.settings import parse_settings

NAME = "authjs.session-token"
ALICE = AdapterUser(id="1", name="Alice", email="alice@example.com", image=None)
REQUEST = object()  # the service hands it to the callbacks, nothing more


def settings(**overrides: str):
    values = {
        "app.env": "production",
        "auth.secret": "k" * 48,
        "auth.url": "https://example.com",
    }
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    return parse_settings(values, environ={})


class MemoryAdapter:
    """The session half of IAdapter, and the session registry, in dicts.

    ``lookups`` counts registry look-ups by id (the JWT read's query).
    """

    def __init__(self, users=(ALICE,)) -> None:
        self.users = {u.id: u for u in users}
        self.sessions: dict[str, AdapterSession] = {}
        self.records: dict[str, SessionRecord] = {}
        self.record_of: dict[str, str] = {}  # session token -> record id
        self.lookups = 0

    def create_session(self, session_token, user_id, expires, created=None):
        row = AdapterSession(session_token, str(user_id), expires, created)
        self.sessions[session_token] = row
        return row

    def get_session_and_user(self, session_token):
        row = self.sessions.get(session_token)
        if row is None:
            return None
        record = self.records.get(self.record_of.get(session_token, ""))
        if record is not None:
            row = dataclasses.replace(
                row, record_id=record.id, last_seen=record.last_seen
            )
        return (row, self.users[row.user_id])

    # the registry
    def create_session_record(self, record, session_token=None):
        self.records[record.id] = record
        if session_token is not None:
            self.record_of[session_token] = record.id
        return record

    def get_session_record(self, record_id):
        self.lookups += 1
        return self.records.get(record_id)

    def list_session_records(self, subject, now):
        return sorted(
            (r for r in self.records.values() if r.subject == subject),
            key=lambda r: r.last_seen,
            reverse=True,
        )

    def touch_session_record(self, record_id, last_seen, expires=None):
        record = self.records.get(record_id)
        if record is not None:
            changes = {"last_seen": last_seen}
            if expires is not None:
                changes["expires"] = expires
            self.records[record_id] = dataclasses.replace(record, **changes)

    def delete_session_records(self, subject, record_ids=None, keep=None):
        ended = [
            r.id
            for r in self.records.values()
            if r.subject == subject
            and r.id != keep
            and (record_ids is None or r.id in record_ids)
        ]
        for rid in ended:
            del self.records[rid]
        for token, rid in list(self.record_of.items()):
            if rid in ended:
                self.sessions.pop(token, None)
                del self.record_of[token]
        return ended

    def update_session(self, session_token, expires):
        row = dataclasses.replace(self.sessions[session_token], expires=expires)
        self.sessions[session_token] = row
        return row

    def delete_session(self, session_token):
        self.sessions.pop(session_token, None)
        rid = self.record_of.pop(session_token, None)  # ON DELETE CASCADE
        self.records.pop(rid, None)


class Recorder:
    """jwt and session callbacks that record their keywords."""

    def __init__(self) -> None:
        self.jwt_calls: list[dict] = []
        self.session_calls: list[dict] = []

    def jwt(self, request, *, token, **kw):
        assert request is REQUEST
        self.jwt_calls.append({"token": dict(token), **kw})
        if kw.get("trigger") == "update" and isinstance(kw.get("session"), dict):
            return {**token, **kw["session"]}
        return None if token.get("sub") == "revoked" else token

    def session(self, request, *, session, **kw):
        self.session_calls.append(kw)
        return session

    def callbacks(self) -> Callbacks:
        return Callbacks(jwt=(self.jwt,), session=(self.session,))


def service(
    recorder: Recorder | None = None,
    adapter: MemoryAdapter | None = None,
    checks: SessionChecks | None = None,
    **overrides: str,
) -> SessionService:
    """A service; its ``adapter`` attribute is the memory adapter to hand it."""
    parsed = settings(**overrides)
    callbacks = recorder.callbacks() if recorder else Callbacks()
    sessions = SessionService(parsed, JWTCodec(parsed.secrets), callbacks, checks)
    sessions.adapter = adapter or MemoryAdapter()  # type: ignore[attr-defined]
    return sessions


def jar(set_cookies: list[str], cookies: dict[str, str] | None = None) -> SessionCookie:
    """The cookie a browser sends back after receiving ``set_cookies``."""
    sent = dict(cookies or {})
    for header in set_cookies:
        name, _, value = header.split(";", 1)[0].partition("=")
        if value and not is_deletion(header):
            sent[name] = value
        else:
            sent.pop(name, None)
    return SessionCookie(sent, NAME, secure=False)


def is_deletion(header: str) -> bool:
    return "Max-Age=0" in header


EMPTY = SessionCookie({}, NAME, secure=False)


# jwt ------------------------------------------------------------------------------------
def test_jwt_start_then_read_gives_the_identity_and_runs_callbacks_once_each():
    recorder = Recorder()
    sessions = service(recorder)

    started = sessions.start(REQUEST, sessions.adapter, EMPTY, ALICE, is_new_user=True)
    read = sessions.read(REQUEST, sessions.adapter, jar(started.set_cookies))

    assert read.identity is not None and read.identity.id == "1"
    assert read.identity.email == "alice@example.com"
    assert [c.get("trigger") for c in recorder.jwt_calls] == ["signUp", None]
    assert recorder.jwt_calls[0]["user"] is ALICE


def test_jwt_start_refused_by_the_callback_is_access_denied():
    sessions = service(Recorder())

    with pytest.raises(AccessDenied):
        sessions.start(
            REQUEST, sessions.adapter, EMPTY, dataclasses.replace(ALICE, id="revoked")
        )


def test_jwt_renew_answers_the_session_and_rolls_the_cookie():
    recorder = Recorder()
    sessions = service(recorder)
    cookie = jar(sessions.start(REQUEST, sessions.adapter, EMPTY, ALICE).set_cookies)

    renewed = sessions.renew(REQUEST, sessions.adapter, cookie)

    assert renewed.body["user"] == {"name": "Alice", "email": "alice@example.com"}
    assert renewed.body["expires"].endswith("Z")
    assert [h.split("=", 1)[0] for h in renewed.set_cookies] == [NAME]
    assert recorder.session_calls[-1]["trigger"] is None
    again = sessions.read(REQUEST, sessions.adapter, jar(renewed.set_cookies))
    assert again.identity.id == "1"


def test_renew_with_an_earlier_read_does_not_run_the_jwt_callbacks_again():
    recorder = Recorder()
    sessions = service(recorder)
    cookie = jar(sessions.start(REQUEST, sessions.adapter, EMPTY, ALICE).set_cookies)
    read = sessions.read(REQUEST, sessions.adapter, cookie)

    sessions.renew(REQUEST, sessions.adapter, cookie, read)

    assert [c.get("trigger") for c in recorder.jwt_calls] == ["signIn", None]


def test_update_runs_the_jwt_callback_with_trigger_update_even_after_a_read():
    """A tween or pyramid_tm reading the identity first changes nothing."""
    recorder = Recorder()
    sessions = service(recorder)
    cookie = jar(sessions.start(REQUEST, sessions.adapter, EMPTY, ALICE).set_cookies)
    sessions.read(REQUEST, sessions.adapter, cookie)  # the early read

    updated = sessions.update(
        REQUEST, sessions.adapter, cookie, {"name": "Alice Renamed"}
    )

    update_call = recorder.jwt_calls[-1]
    assert update_call["trigger"] == "update"
    assert update_call["session"] == {"name": "Alice Renamed"}
    assert update_call["token"]["name"] == "Alice"  # the raw claims
    assert updated.body["user"]["name"] == "Alice Renamed"
    assert recorder.session_calls[-1]["trigger"] == "update"
    assert recorder.session_calls[-1]["new_session"] == {"name": "Alice Renamed"}
    kept = sessions.read(REQUEST, sessions.adapter, jar(updated.set_cookies))
    assert kept.identity.name == "Alice Renamed"


def test_jwt_callback_returning_none_ends_the_session_and_clears_the_cookie():
    sessions = service(Recorder())
    revoked = dataclasses.replace(ALICE, id="revoked")
    # Signed in before the revocation (the callback refuses sign-in too).
    plain = service(adapter=sessions.adapter)
    cookie = jar(plain.start(REQUEST, plain.adapter, EMPTY, revoked).set_cookies)

    renewed = sessions.renew(REQUEST, sessions.adapter, cookie)

    assert renewed.body is None and renewed.invalid
    assert renewed.set_cookies == [h for h in renewed.set_cookies if "Max-Age=0" in h]
    assert len(renewed.set_cookies) == 1


def test_a_tampered_cookie_is_invalid_and_cleared():
    sessions = service()
    cookie = jar(sessions.start(REQUEST, sessions.adapter, EMPTY, ALICE).set_cookies)
    value = cookie.cookies[NAME]
    forged = SessionCookie({NAME: value[:-4] + "AAAA"}, NAME, secure=False)

    renewed = sessions.renew(REQUEST, sessions.adapter, forged)

    assert renewed.identity is None and renewed.invalid and renewed.body is None
    assert len(renewed.set_cookies) == 1 and "Max-Age=0" in renewed.set_cookies[0]


def test_a_token_of_another_secret_is_invalid():
    other = service(auth__secret="j" * 48)
    cookie = jar(other.start(REQUEST, other.adapter, EMPTY, ALICE).set_cookies)

    mine = service(adapter=other.adapter)
    assert mine.read(REQUEST, mine.adapter, cookie).invalid


def test_no_cookie_is_no_session_and_no_headers():
    renewed = service().renew(REQUEST, MemoryAdapter(), EMPTY)

    assert renewed.body is None and not renewed.invalid and renewed.set_cookies == []


def test_a_large_session_is_chunked_and_read_back_from_its_chunks():
    big = dataclasses.replace(ALICE, name="x" * (CHUNK_SIZE * 2))
    sessions = service()

    started = sessions.start(REQUEST, sessions.adapter, EMPTY, big)
    names = [h.split("=", 1)[0] for h in started.set_cookies]

    assert names[:3] == [f"{NAME}.0", f"{NAME}.1", f"{NAME}.2"]
    assert (
        sessions.read(REQUEST, sessions.adapter, jar(started.set_cookies)).identity.name
        == big.name
    )


def test_too_many_chunks_is_invalid():
    cookies = {f"{NAME}.{i}": "x" for i in range(MAX_CHUNKS + 1)}

    renewed = service().renew(
        REQUEST, MemoryAdapter(), SessionCookie(cookies, NAME, secure=False)
    )

    assert renewed.invalid and len(renewed.set_cookies) == MAX_CHUNKS + 1


def test_past_the_absolute_lifetime_the_session_is_over_however_renewed(monkeypatch):
    sessions = service(
        auth__session__absolute_max_age="7200", auth__session__max_age="3600"
    )
    cookie = jar(sessions.start(REQUEST, sessions.adapter, EMPTY, ALICE).set_cookies)
    start = time.time()
    # Renewed every half hour: each renewal is capped by the absolute limit.
    for step in range(1, 4):
        monkeypatch.setattr(time, "time", lambda s=step: start + s * 1800)
        renewed = sessions.renew(REQUEST, sessions.adapter, cookie)
        assert renewed.body is not None
        cookie = jar(renewed.set_cookies, cookie.cookies)
    monkeypatch.setattr(time, "time", lambda: start + 7201)

    assert sessions.renew(REQUEST, sessions.adapter, cookie).invalid


def test_jwt_end_clears_the_cookie_and_tells_what_ended():
    sessions = service()
    cookie = jar(sessions.start(REQUEST, sessions.adapter, EMPTY, ALICE).set_cookies)

    ended = sessions.end(sessions.adapter, cookie)

    assert ended.token["sub"] == "1" and ended.session_token is None
    assert len(ended.set_cookies) == 1 and "Max-Age=0" in ended.set_cookies[0]


# database ---------------------------------------------------------------------------------
def database(recorder: Recorder | None = None, **overrides: str) -> SessionService:
    return service(recorder, auth__session__strategy="database", **overrides)


def test_database_start_writes_a_row_and_read_finds_the_user():
    adapter = MemoryAdapter()
    sessions = database()

    started = sessions.start(REQUEST, adapter, EMPTY, ALICE)
    cookie = jar(started.set_cookies)

    assert list(adapter.sessions) == [cookie.cookies[NAME]]
    assert sessions.read(REQUEST, adapter, cookie).identity.id == "1"


def test_database_start_replaces_the_browsers_previous_session():
    adapter = MemoryAdapter()
    sessions = database()
    first = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)

    second = jar(sessions.start(REQUEST, adapter, first, ALICE).set_cookies)

    assert list(adapter.sessions) == [second.cookies[NAME]]


def test_database_renew_moves_the_row_only_after_update_age():
    adapter = MemoryAdapter()
    sessions = database(recorder := Recorder())
    cookie = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)
    token = cookie.cookies[NAME]
    written = adapter.sessions[token].expires

    renewed = sessions.renew(REQUEST, adapter, cookie)
    assert adapter.sessions[token].expires == written  # within update_age
    assert renewed.body["user"]["email"] == "alice@example.com"
    assert recorder.session_calls[-1]["user"] is ALICE
    assert recorder.jwt_calls == []  # no JWT, no jwt callbacks

    adapter.sessions[token] = dataclasses.replace(
        adapter.sessions[token], expires=written - dt.timedelta(days=2)
    )
    sessions.renew(REQUEST, adapter, cookie)
    assert adapter.sessions[token].expires > written - dt.timedelta(days=2)


def test_database_expired_or_unknown_sessions_are_invalid_and_expired_rows_go():
    adapter = MemoryAdapter()
    sessions = database()
    cookie = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)
    token = cookie.cookies[NAME]
    adapter.sessions[token] = dataclasses.replace(
        adapter.sessions[token], expires=dt.datetime.now(dt.UTC) - dt.timedelta(1)
    )

    assert sessions.renew(REQUEST, adapter, cookie).invalid
    assert adapter.sessions == {}
    unknown = SessionCookie({NAME: "no-such-token"}, NAME, secure=False)
    assert sessions.read(REQUEST, adapter, unknown).invalid
    too_long = SessionCookie({NAME: "x" * 256}, NAME, secure=False)
    assert sessions.read(REQUEST, adapter, too_long).invalid


def test_database_session_past_the_absolute_lifetime_is_over():
    adapter = MemoryAdapter()
    sessions = database()
    cookie = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)
    token = cookie.cookies[NAME]
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    adapter.sessions[token] = dataclasses.replace(
        adapter.sessions[token], created=long_ago
    )

    assert sessions.read(REQUEST, adapter, cookie).invalid
    assert adapter.sessions == {}


def test_database_update_hands_the_data_to_the_session_callback():
    adapter = MemoryAdapter()
    recorder = Recorder()
    sessions = database(recorder)
    cookie = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)

    sessions.update(REQUEST, adapter, cookie, {"theme": "dark"})

    assert recorder.session_calls[-1]["trigger"] == "update"
    assert recorder.session_calls[-1]["new_session"] == {"theme": "dark"}


def test_database_end_deletes_the_row_and_clears_the_cookie():
    adapter = MemoryAdapter()
    sessions = database()
    cookie = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)

    ended = sessions.end(adapter, cookie)

    assert adapter.sessions == {}
    assert ended.session_token == cookie.cookies[NAME] and ended.token is None
    assert "Max-Age=0" in ended.set_cookies[0]


def test_credentials_insist_on_jwt_even_with_the_database_strategy():
    adapter = MemoryAdapter()

    started = database().start(REQUEST, adapter, EMPTY, ALICE, strategy="jwt")

    assert adapter.sessions == {} and started.token["sub"] == "1"


# the session registry -------------------------------------------------------------------
class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def registry_service(interval: str = "10", **overrides: str):
    clock = Clock()
    parsed = settings(auth__session__check_interval=interval, **overrides)
    checks = SessionChecks(parsed.session_check_interval, clock=clock)
    sessions = service(
        checks=checks, auth__session__check_interval=interval, **overrides
    )
    return sessions, clock


def test_jwt_sign_in_writes_a_record_and_the_token_names_it():
    sessions, _ = registry_service()
    client = ClientInfo(
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "203.0.113.9",
    )

    started = sessions.start(REQUEST, sessions.adapter, EMPTY, ALICE, client=client)

    (record,) = sessions.adapter.records.values()
    assert started.session_id == record.id and len(record.id) == 43
    assert record.subject == "1" and record.strategy == "jwt"
    assert (record.client, record.address) == ("Firefox on Linux", "203.0.113.9")
    claims = sessions.codec.decode(jar(started.set_cookies).cookies[NAME], salt=NAME)
    assert claims["sid"] == record.id


def test_database_sign_in_writes_a_record_tied_to_its_row():
    sessions, _ = registry_service(auth__session__strategy="database")
    adapter = sessions.adapter

    started = sessions.start(REQUEST, adapter, EMPTY, ALICE)
    cookie = jar(started.set_cookies)

    (record,) = adapter.records.values()
    assert record.strategy == "database" and started.session_id == record.id
    assert sessions.read(REQUEST, adapter, cookie).session_id == record.id
    sessions.end(adapter, cookie)
    assert adapter.records == {} and adapter.sessions == {}


def test_a_jwt_read_looks_the_record_up_once_per_interval():
    sessions, clock = registry_service()
    adapter = sessions.adapter
    cookie = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)

    for _ in range(5):
        assert sessions.read(REQUEST, adapter, cookie).identity.id == "1"
    assert adapter.lookups == 1  # the first read; the others trust the memo
    clock.now += 10
    assert sessions.read(REQUEST, adapter, cookie).identity.id == "1"
    assert adapter.lookups == 2


def test_a_record_ended_elsewhere_ends_the_jwt_once_the_interval_passed():
    sessions, clock = registry_service()
    adapter = sessions.adapter
    cookie = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)
    assert sessions.read(REQUEST, adapter, cookie).identity is not None

    adapter.records.clear()  # another process ended it

    assert sessions.read(REQUEST, adapter, cookie).identity is not None
    clock.now += 10.5
    read = sessions.read(REQUEST, adapter, cookie)
    assert read.identity is None and read.invalid
    assert sessions.checks.state(next(iter(sessions.checks._entries))) is False


def test_ending_a_jwt_session_in_this_process_is_immediate():
    sessions, _ = registry_service()
    adapter = sessions.adapter
    cookie = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)
    assert sessions.read(REQUEST, adapter, cookie).identity is not None

    ended = sessions.end(adapter, cookie)

    assert ended.session_id is not None and adapter.records == {}
    assert sessions.read(REQUEST, adapter, cookie).invalid


def test_interval_0_never_looks_up_and_accepts_a_token_without_the_claim():
    sessions, clock = registry_service("0")
    adapter = sessions.adapter
    cookie = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)
    adapter.records.clear()  # ended by another process: this one never knows
    clock.now += 1e6
    bare = SessionCookie(
        {
            NAME: sessions.codec.encode(
                {"sub": "1", "auth_time": int(time.time())}, salt=NAME, max_age=60
            )
        },
        NAME,
        secure=False,
    )

    assert sessions.read(REQUEST, adapter, cookie).identity.id == "1"
    assert sessions.read(REQUEST, adapter, bare).identity.id == "1"
    assert adapter.lookups == 0


def test_interval_0_still_ends_at_once_what_this_process_ended():
    sessions, _ = registry_service("0")
    adapter = sessions.adapter
    cookie = jar(sessions.start(REQUEST, adapter, EMPTY, ALICE).set_cookies)

    sessions.end(adapter, cookie)

    assert sessions.read(REQUEST, adapter, cookie).invalid
    assert adapter.lookups == 0


@pytest.mark.parametrize("sid", [None, "", 7, "x" * 65, ["a"]])
def test_with_the_registry_on_a_token_without_a_usable_claim_is_signed_out(sid):
    sessions, _ = registry_service()
    claims = {"sub": "1", "auth_time": int(time.time())}
    if sid is not None:
        claims["sid"] = sid
    cookie = SessionCookie(
        {NAME: sessions.codec.encode(claims, salt=NAME, max_age=60)}, NAME, secure=False
    )

    assert sessions.read(REQUEST, sessions.adapter, cookie).invalid


def test_renewal_keeps_the_session_id_whatever_the_callbacks_return():
    class Dropper(Recorder):
        def jwt(self, request, *, token, **kw):
            return {k: v for k, v in token.items() if k != "sid"}

    recorder = Dropper()
    parsed = settings()
    sessions = SessionService(parsed, JWTCodec(parsed.secrets), recorder.callbacks())
    adapter = MemoryAdapter()
    started = sessions.start(REQUEST, adapter, EMPTY, ALICE)

    renewed = sessions.renew(REQUEST, adapter, jar(started.set_cookies))

    claims = sessions.codec.decode(jar(renewed.set_cookies).cookies[NAME], salt=NAME)
    assert claims["sid"] == started.session_id


def test_end_sessions_ends_only_the_subjects_own_and_keeps_the_kept():
    sessions, _ = registry_service()
    adapter = sessions.adapter
    bob = AdapterUser(id="2", email="bob@example.com")
    adapter.users["2"] = bob
    mine = [sessions.start(REQUEST, adapter, EMPTY, ALICE).session_id for _ in "abc"]
    theirs = sessions.start(REQUEST, adapter, EMPTY, bob).session_id

    assert sessions.end_sessions(adapter, "1", [theirs]) == []
    assert sessions.end_sessions(adapter, "1", keep=mine[0]) == mine[1:]

    assert set(adapter.records) == {mine[0], theirs}
    assert sessions.checks.state(mine[1]) is False
    assert [r.id for r in sessions.list_sessions(adapter, "1")] == [mine[0]]


def test_the_memo_forgets_the_least_recently_used_past_its_bound():
    clock = Clock()
    checks = SessionChecks(10, max_entries=2, clock=clock)
    checks.alive("a")
    checks.ended("b")
    checks.alive("a")  # used again: "b" is now the oldest
    checks.alive("c")

    assert len(checks) == 2
    assert checks.state("b") is None  # forgotten: looked up again
    assert checks.state("a") is True and checks.state("c") is True
    clock.now += 10
    assert checks.state("a") is None


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
            "like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
            " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/131.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown client"),
        (None, "Unknown client"),
        ("\x00\x01", "Unknown client"),
        ("SomeBot/1.0 (+https://example.com)", "SomeBot"),
        ("x" * 10_000, "x" * 41),
    ],
)
def test_user_agent_summaries(agent, summary):
    assert summarize_user_agent(agent) == summary


def test_a_look_up_writes_last_seen_at_most_once_a_minute(monkeypatch):
    sessions, clock = registry_service(auth__session__absolute_max_age="7776000")
    adapter = sessions.adapter
    started = sessions.start(REQUEST, adapter, EMPTY, ALICE)
    cookie = jar(started.set_cookies)
    signed_in = adapter.records[started.session_id]
    later = signed_in.created + dt.timedelta(seconds=30)
    monkeypatch.setattr("app.auth.sessions.utcnow", lambda: later)
    clock.now += 10

    sessions.read(REQUEST, adapter, cookie)  # looked up, 30 s after sign-in
    assert adapter.records[started.session_id].last_seen == signed_in.created

    later += dt.timedelta(seconds=31)
    clock.now += 10
    sessions.read(REQUEST, adapter, cookie)  # looked up, 61 s after sign-in

    touched = adapter.records[started.session_id]
    assert touched.last_seen == later
    # the latest its token can be valid: max_age after a renewal that
    # followed a read, looked up within 10 s and touched within 60 s
    assert touched.expires == later + dt.timedelta(seconds=30 * 24 * 3600 + 10 + 60)


def test_a_database_read_writes_last_seen_at_most_once_a_minute(monkeypatch):
    sessions, _ = registry_service(auth__session__strategy="database")
    adapter = sessions.adapter
    started = sessions.start(REQUEST, adapter, EMPTY, ALICE)
    cookie = jar(started.set_cookies)
    created = adapter.records[started.session_id].created

    monkeypatch.setattr(
        "app.auth.sessions.utcnow", lambda: created + dt.timedelta(seconds=59)
    )
    sessions.read(REQUEST, adapter, cookie)
    assert adapter.records[started.session_id].last_seen == created

    moved = created + dt.timedelta(seconds=60)
    monkeypatch.setattr("app.auth.sessions.utcnow", lambda: moved)
    sessions.read(REQUEST, adapter, cookie)
    assert adapter.records[started.session_id].last_seen == moved

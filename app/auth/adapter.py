"""The SQLAlchemy adapter: Auth.js's adapter methods over :mod:`app.auth.models`.

It works on the request's session (``request.dbsession``), so everything it
writes commits or rolls back with the request. It flushes, never commits.

One method reads outside it: ``get_session_and_user``, the lookup behind
every request that carries a database session cookie, runs as a single
autocommitted ``SELECT`` on a pooled connection of its own when the adapter
is given ``reads`` (as Auth.js's adapters run it). A request that only reads
its session then creates no ORM session and opens no transaction: on
PostgreSQL one round trip instead of three (``BEGIN``, ``SELECT``,
``ROLLBACK``), and the read's CPU about a fifth lower (``bench/README.md``).
The row it reads was committed by the request that signed in, so reading it
outside this request's transaction changes nothing it can see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session as DBSession

from app.auth.interfaces import (
    AdapterAccount,
    AdapterSession,
    AdapterUser,
    SessionRecord,
    UserChanges,
    VerificationTokenValue,
)
from app.auth.models import Account, Session, User, VerificationToken
from app.auth.models import SessionRecord as RecordRow

# The columns, not the mapped objects: the read builds its own dataclasses,
# and loading two ORM instances per read cost more than the query.
_SESSION_AND_USER = (
    select(
        Session.session_token,
        Session.user_id,
        Session.expires,
        Session.created,
        RecordRow.id,
        RecordRow.last_seen,
        User.email,
        User.name,
        User.image,
        User.email_verified,
    )
    .join(User, Session.user_id == User.id)
    .outerjoin(RecordRow, RecordRow.session_id == Session.id)
    .where(Session.session_token == bindparam("session_token"))
)
_RECORD_BY_ID = select(RecordRow).where(RecordRow.id == bindparam("record_id"))


def _record(row: RecordRow) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        subject=row.subject,
        created=row.created,
        last_seen=row.last_seen,
        expires=row.expires,
        strategy=row.strategy,
        client=row.client or "",
        address=row.address or "",
        user_id=None if row.user_id is None else str(row.user_id),
    )


# Built once: statement construction costs more than SQLite's answer, and
# this one runs on every credentials sign-in. lower() on both sides, in SQL:
# the rule of the unique index uq_users_email_lower, whatever the database's
# lower() folds (SQLite's only ASCII, PostgreSQL's as its ctype says), so a
# row the index would refuse a twin of is the row found. (Python's lower()
# folds more than SQLite's: a row "Élodie@..." was not found even by itself.)
_USER_BY_EMAIL = select(User).where(
    func.lower(User.email) == func.lower(bindparam("email"))
)


def _user(row: User) -> AdapterUser:
    return AdapterUser(
        id=str(row.id),
        email=row.email,
        name=row.name,
        image=row.image,
        email_verified=row.email_verified,
    )


def _int_id(user_id: str | int) -> int | None:
    try:
        return int(user_id)
    except (TypeError, ValueError):
        return None


class SQLAlchemyAdapter:
    """``dbsession`` is the session to work on, or a function that returns it
    (called at first use). ``reads``, an engine whose connections autocommit,
    is where ``get_session_and_user`` runs; without it, on the session."""

    def __init__(
        self,
        dbsession: DBSession | Callable[[], DBSession],
        reads: Engine | None = None,
    ) -> None:
        self._dbsession = dbsession
        self.reads = reads

    @cached_property
    def db(self) -> DBSession:
        found = self._dbsession
        return found if isinstance(found, DBSession) else found()

    @contextmanager
    def _read_connection(self) -> Iterator[Connection]:
        if self.reads is None:
            yield self.db.connection()
        else:
            with self.reads.connect() as connection:
                yield connection

    # users ---------------------------------------------------------------
    def create_user(
        self,
        email: str | None,
        name: str | None = None,
        image: str | None = None,
        email_verified: dt.datetime | None = None,
    ) -> AdapterUser:
        row = User(email=email, name=name, image=image, email_verified=email_verified)
        self.db.add(row)
        self.db.flush()
        return _user(row)

    def get_user(self, user_id: str | int) -> AdapterUser | None:
        pk = _int_id(user_id)
        row = self.db.get(User, pk) if pk is not None else None
        return _user(row) if row else None

    def get_user_by_email(self, email: str) -> AdapterUser | None:
        row = self.db.scalars(_USER_BY_EMAIL, {"email": email.strip()}).first()
        return _user(row) if row else None

    def get_user_by_account(
        self, provider: str, provider_account_id: str
    ) -> AdapterUser | None:
        row = self.db.scalars(
            select(User)
            .join(Account)
            .where(
                Account.provider == provider,
                Account.provider_account_id == provider_account_id,
            )
        ).first()
        return _user(row) if row else None

    def update_user(self, user_id: str | int, changes: UserChanges) -> AdapterUser:
        row = self.db.get(User, _int_id(user_id))
        if row is None:
            raise LookupError(f"no user {user_id}")
        for name in ("name", "email", "image", "email_verified"):
            value = getattr(changes, name)
            if value is not None:
                setattr(row, name, value)
        self.db.flush()
        return _user(row)

    def delete_user(self, user_id: str | int) -> None:
        self.db.execute(delete(User).where(User.id == _int_id(user_id)))

    # accounts ------------------------------------------------------------
    def link_account(self, account: AdapterAccount) -> AdapterAccount:
        self.db.add(
            Account(
                user_id=_int_id(account.user_id),
                type=account.type,
                provider=account.provider,
                provider_account_id=account.provider_account_id,
                access_token=account.access_token,
                refresh_token=account.refresh_token,
                expires_at=account.expires_at,
                id_token=account.id_token,
                scope=account.scope,
                token_type=account.token_type,
                session_state=account.session_state,
            )
        )
        self.db.flush()
        return account

    def unlink_account(self, provider: str, provider_account_id: str) -> None:
        self.db.execute(
            delete(Account).where(
                Account.provider == provider,
                Account.provider_account_id == provider_account_id,
            )
        )

    def delete_user_accounts(self, user_id: str | int) -> int:
        return (
            self.db.execute(
                delete(Account).where(Account.user_id == _int_id(user_id))
            ).rowcount
            or 0
        )

    # sessions ------------------------------------------------------------
    def create_session(
        self,
        session_token: str,
        user_id: str | int,
        expires: dt.datetime,
        created: dt.datetime | None = None,
    ) -> AdapterSession:
        self.db.add(
            Session(
                session_token=session_token,
                user_id=_int_id(user_id),
                expires=expires,
                created=created,
            )
        )
        self.db.flush()
        return AdapterSession(session_token, str(user_id), expires, created)

    def get_session_and_user(
        self, session_token: str
    ) -> tuple[AdapterSession, AdapterUser] | None:
        # One query, the registry record included (its id and last_seen).
        with self._read_connection() as connection:
            found = connection.execute(
                _SESSION_AND_USER, {"session_token": session_token}
            ).first()
        if found is None:
            return None
        (token, user_id, expires, created, record_id, last_seen) = found[:6]
        (email, name, image, email_verified) = found[6:]
        return (
            AdapterSession(token, str(user_id), expires, created, record_id, last_seen),
            AdapterUser(str(user_id), email, name, image, email_verified),
        )

    def update_session(
        self, session_token: str, expires: dt.datetime
    ) -> AdapterSession | None:
        row = self.db.scalars(
            select(Session).where(Session.session_token == session_token)
        ).first()
        if row is None:
            return None
        row.expires = expires
        self.db.flush()
        return AdapterSession(
            row.session_token, str(row.user_id), row.expires, row.created
        )

    def delete_session(self, session_token: str) -> None:
        self.db.execute(delete(Session).where(Session.session_token == session_token))

    def delete_user_sessions(self, user_id: str | int, keep: str | None = None) -> int:
        query = delete(Session).where(Session.user_id == _int_id(user_id))
        if keep is not None:
            query = query.where(Session.session_token != keep)
        return self.db.execute(query).rowcount or 0

    # the session registry ------------------------------------------------
    def create_session_record(
        self, record: SessionRecord, session_token: str | None = None
    ) -> SessionRecord:
        pk = _int_id(record.subject)
        # One INSERT: user_id is the subject only when it is a row of users
        # (an application may sign in users it keeps elsewhere).
        user_id = (
            select(User.id).where(User.id == pk).scalar_subquery()
            if pk is not None
            else None
        )
        session_id = (
            select(Session.id)
            .where(Session.session_token == session_token)
            .scalar_subquery()
            if session_token is not None
            else None
        )
        self.db.execute(
            insert(RecordRow).values(
                id=record.id,
                subject=record.subject,
                user_id=user_id,
                session_id=session_id,
                strategy=record.strategy,
                created=record.created,
                last_seen=record.last_seen,
                expires=record.expires,
                client=record.client[:100],
                address=record.address[:64],
            )
        )
        return record

    def get_session_record(self, record_id: str) -> SessionRecord | None:
        row = self.db.scalars(_RECORD_BY_ID, {"record_id": record_id}).first()
        return _record(row) if row is not None else None

    def list_session_records(
        self, subject: str, now: dt.datetime
    ) -> list[SessionRecord]:
        rows = self.db.scalars(
            select(RecordRow)
            .outerjoin(Session, RecordRow.session_id == Session.id)
            .where(
                RecordRow.subject == str(subject),
                RecordRow.expires > now,
                or_(RecordRow.session_id.is_(None), Session.expires > now),
            )
            .order_by(RecordRow.last_seen.desc(), RecordRow.created.desc())
        ).all()
        return [_record(row) for row in rows]

    def touch_session_record(
        self,
        record_id: str,
        last_seen: dt.datetime,
        expires: dt.datetime | None = None,
    ) -> None:
        values: dict = {"last_seen": last_seen}
        if expires is not None:
            values["expires"] = expires
        self.db.execute(
            update(RecordRow).where(RecordRow.id == record_id).values(**values)
        )

    def delete_session_records(
        self,
        subject: str,
        record_ids: list[str] | None = None,
        keep: str | None = None,
    ) -> list[str]:
        query = select(RecordRow.id, RecordRow.session_id).where(
            RecordRow.subject == str(subject)
        )
        if record_ids is not None:
            query = query.where(RecordRow.id.in_(list(record_ids)))
        found = [(rid, sid) for rid, sid in self.db.execute(query) if rid != keep]
        ids = [rid for rid, _ in found]
        if ids:
            self.db.execute(delete(RecordRow).where(RecordRow.id.in_(ids)))
        rows = [sid for _, sid in found if sid is not None]
        if rows:
            self.db.execute(delete(Session).where(Session.id.in_(rows)))
        pk = _int_id(subject)
        if record_ids is None and pk is not None:
            # Database sessions the registry never saw (written before it, or
            # by another app on this database) end too; the kept one stays.
            others = delete(Session).where(Session.user_id == pk)
            if keep is not None:
                kept = self.db.scalar(
                    select(RecordRow.session_id).where(RecordRow.id == keep)
                )
                if kept is not None:
                    others = others.where(Session.id != kept)
            self.db.execute(others)
        return ids

    def delete_expired_session_records(self, now: dt.datetime) -> int:
        return (
            self.db.execute(delete(RecordRow).where(RecordRow.expires <= now)).rowcount
            or 0
        )

    # verification tokens -------------------------------------------------
    def create_verification_token(
        self, token: VerificationTokenValue
    ) -> VerificationTokenValue:
        self.db.add(
            VerificationToken(
                identifier=token.identifier, token=token.token, expires=token.expires
            )
        )
        self.db.flush()
        return token

    def use_verification_token(
        self, identifier: str, token: str
    ) -> VerificationTokenValue | None:
        # DELETE ... RETURNING makes "use" atomic: of two concurrent clicks on
        # one link, exactly one gets the row.
        row = self.db.execute(
            delete(VerificationToken)
            .where(
                VerificationToken.identifier == identifier,
                VerificationToken.token == token,
            )
            .returning(
                VerificationToken.identifier,
                VerificationToken.token,
                VerificationToken.expires,
            )
        ).first()
        if row is None:
            return None
        return VerificationTokenValue(row.identifier, row.token, row.expires)

    def delete_verification_tokens(self, identifier: str) -> None:
        self.db.execute(
            delete(VerificationToken).where(VerificationToken.identifier == identifier)
        )

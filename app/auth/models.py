"""The Auth.js adapter schema (``@auth/pg-adapter``'s ``schema.sql``) as SQLAlchemy tables.

Tables and column names are Auth.js's (camelCase columns such as ``userId``
are kept, quoted), so a database shared with an Auth.js deployment lines up.
Additions that Auth.js's SQL leaves to the application: the foreign keys
(with ``ON DELETE CASCADE``), one account per ``(provider,
providerAccountId)``, unique session tokens, a unique index on
``lower(email)`` so one address is one user however it is capitalised, user
ids that are never reused (``AUTOINCREMENT`` on SQLite), and a nullable
``sessions.created``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models import Base, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    email_verified: Mapped[dt.datetime | None] = mapped_column(
        "emailVerified", UTCDateTime
    )
    image: Mapped[str | None] = mapped_column(Text)

    accounts: Mapped[list[Account]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        Index("uq_users_email_lower", func.lower(email), unique=True),
        # SQLite would otherwise hand a deleted user's id to the next new user,
        # whose session an old cookie of the deleted user would then open.
        # (PostgreSQL's sequences never go back.)
        {"sqlite_autoincrement": True},
    )


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        "userId", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    type: Mapped[str] = mapped_column(String(255), nullable=False)
    provider: Mapped[str] = mapped_column(String(255), nullable=False)
    provider_account_id: Mapped[str] = mapped_column(
        "providerAccountId", String(255), nullable=False
    )
    refresh_token: Mapped[str | None] = mapped_column(Text)
    access_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    id_token: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(Text)
    session_state: Mapped[str | None] = mapped_column(Text)
    token_type: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(back_populates="accounts")

    __table_args__ = (
        Index(
            "uq_accounts_provider_account", "provider", "providerAccountId", unique=True
        ),
    )


class Session(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        "userId", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    session_token: Mapped[str] = mapped_column(
        "sessionToken", String(255), nullable=False, unique=True
    )
    # Not in Auth.js's schema (nullable, so its rows still fit): the sign-in
    # time, which auth.session.absolute_max_age counts from.
    created: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class VerificationToken(Base):
    __tablename__ = "verification_token"

    identifier: Mapped[str] = mapped_column(Text, primary_key=True)
    token: Mapped[str] = mapped_column(Text, primary_key=True)
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class SessionRecord(Base):
    """The session registry: one row per signed-in session, JWT or database.

    A separate table rather than columns on ``sessions``: a JWT session has
    no ``sessions`` row (one there would be a database session an Auth.js
    app on the same database could open), and Auth.js's table stays as it
    is. A database session's record points at its row (``session_id``, ON
    DELETE CASCADE), so whatever deletes the row (sign-out, expiry, an
    Auth.js app) deletes the record. ``user_id`` is set when the subject is
    a row of ``users``: deleting the user deletes its records, and its JWTs
    read as signed out.
    """

    __tablename__ = "session_registry"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), unique=True
    )
    strategy: Mapped[str] = mapped_column(String(16), nullable=False)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    client: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    address: Mapped[str] = mapped_column(String(64), nullable=False, default="")

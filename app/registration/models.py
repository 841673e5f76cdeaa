"""Registration's tables, keyed to the core's ``users.id``.

The core's schema stays Auth.js's: passwords and emailed tokens live here.

- ``registration_passwords``: one password hash per user (passlib's string,
  argon2id by default) and when it last changed. (Ending sessions after a
  reset is the core's session registry's job.)
- ``registration_tokens``: email verification, password-reset and
  email-change tokens (the new address in ``email``),
  stored as the SHA-256 of the random token (the link carries the token, the
  database only its hash), single use (deleted when used) and expiring.

Uniqueness of an email is the core's ``uq_users_email_lower`` index.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models import Base, UTCDateTime

VERIFY = "verify"
RESET = "reset"
#: a change of address: the token's ``email`` is the new address
EMAIL_CHANGE = "email_change"


class PasswordCredential(Base):
    __tablename__ = "registration_passwords"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    hash: Mapped[str] = mapped_column(String(255), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class EmailToken(Base):
    __tablename__ = "registration_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    #: the address the link was sent to (verification confirms this one)
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)

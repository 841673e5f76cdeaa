"""``authsite-purge-tokens <ini>`` on a real database, and registration's own purge.

Expired emailed tokens can never be used again; they are deleted from both
tables (the core's ``verification_token``, registration's
``registration_tokens``), live ones are kept. Registration also drops
expired rows of its own table whenever it issues a token.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from app.auth.models import SessionRecord, User, VerificationToken
from app.registration.models import VERIFY, EmailToken
from tests.conftest import ROOT
from tests.functional.registration.helpers import signup, unique_email

NOW = dt.datetime.now(dt.UTC)
HOUR = dt.timedelta(hours=1)


def registration_token(user_id: int, name: str, expires: dt.datetime) -> EmailToken:
    return EmailToken(
        user_id=user_id,
        purpose=VERIFY,
        token_hash=name.ljust(64, "0"),
        email="someone@example.com",
        created_at=expires - HOUR,
        expires_at=expires,
    )


def test_the_purge_command_deletes_expired_tokens_only(
    app_settings, dbsession, tmp_path
):
    user = User(email="someone@example.com")
    dbsession.add(user)
    dbsession.flush()
    dbsession.add_all(
        [
            VerificationToken(
                identifier="a@example.com", token="old", expires=NOW - HOUR
            ),
            VerificationToken(
                identifier="b@example.com", token="new", expires=NOW + HOUR
            ),
            registration_token(user.id, "old", NOW - HOUR),
            registration_token(user.id, "new", NOW + HOUR),
            *(
                SessionRecord(
                    id=name,
                    subject=str(user.id),
                    user_id=user.id,
                    strategy="jwt",
                    created=NOW - 2 * HOUR,
                    last_seen=NOW - 2 * HOUR,
                    expires=expires,
                )
                for name, expires in (("old", NOW - HOUR), ("new", NOW + HOUR))
            ),
        ]
    )
    dbsession.commit()
    ini = tmp_path / "site.ini"
    ini.write_text(
        "[app:main]\nuse = egg:authsite\n"
        f"sqlalchemy.url = {app_settings['sqlalchemy.url']}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    done = subprocess.run(
        [str(Path(sys.executable).parent / "authsite-purge-tokens"), str(ini)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )

    assert done.returncode == 0, done.stderr
    assert "verification_token: 1 expired deleted" in done.stdout
    assert "registration_tokens: 1 expired deleted" in done.stdout
    assert "session_registry: 1 expired deleted" in done.stdout
    dbsession.expire_all()
    assert dbsession.scalars(sa.select(VerificationToken.token)).all() == ["new"]
    assert dbsession.scalars(sa.select(SessionRecord.id)).all() == ["new"]
    assert dbsession.scalars(sa.select(EmailToken.token_hash)).all() == [
        "new".ljust(64, "0")
    ]


def test_issuing_a_token_drops_the_expired_ones(
    smtp_server, make_app, app_settings, dbsession
):
    user = User(email="earlier@example.com")
    dbsession.add(user)
    dbsession.flush()
    dbsession.add_all(
        [
            registration_token(user.id, "old", NOW - HOUR),
            registration_token(user.id, "new", NOW + HOUR),
            *(
                SessionRecord(
                    id=name,
                    subject=str(user.id),
                    user_id=user.id,
                    strategy="jwt",
                    created=NOW - 2 * HOUR,
                    last_seen=NOW - 2 * HOUR,
                    expires=expires,
                )
                for name, expires in (("old", NOW - HOUR), ("new", NOW + HOUR))
            ),
        ]
    )
    dbsession.commit()

    signup(make_app(), unique_email(), status=302)  # issues a confirmation token

    dbsession.expire_all()
    hashes = dbsession.scalars(sa.select(EmailToken.token_hash)).all()
    assert "old".ljust(64, "0") not in hashes
    assert "new".ljust(64, "0") in hashes
    assert len(hashes) == 2

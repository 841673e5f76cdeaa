"""``authsite-purge-tokens <config_uri>``: delete expired emailed tokens.

Expired rows can never be used again: the core's magic-link tokens
(``verification_token``) and registration's verification and reset tokens
(``registration_tokens``). Registration also deletes its own expired tokens
whenever it issues one; the core's table is cleaned only here. Session
registry records past their expiry (their session can no longer be valid)
go too. Run it from cron, e.g. hourly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys

from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy import delete

from app.auth.models import SessionRecord, VerificationToken
from app.models import get_engine
from app.registration.models import EmailToken

log = logging.getLogger(__name__)


def purge(engine, now: dt.datetime) -> dict[str, int]:
    """Delete the tokens expired at ``now``; the number deleted per table."""
    deleted = {}
    with engine.begin() as connection:
        for table, expires in (
            (VerificationToken.__table__, VerificationToken.expires),
            (EmailToken.__table__, EmailToken.expires_at),
            (SessionRecord.__table__, SessionRecord.expires),
        ):
            result = connection.execute(delete(table).where(expires <= now))
            deleted[table.name] = result.rowcount
    return deleted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="authsite-purge-tokens", description="Delete expired emailed tokens."
    )
    parser.add_argument("config_uri", help="the site's ini file, e.g. production.ini")
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    engine = get_engine(get_appsettings(args.config_uri))
    try:
        deleted = purge(engine, dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()
    for table, count in deleted.items():
        log.info("deleted %s expired rows from %s", count, table)
        print(f"{table}: {count} expired deleted")
    return 0


if __name__ == "__main__":  # pragma: no cover - the console script calls main()
    sys.exit(main())

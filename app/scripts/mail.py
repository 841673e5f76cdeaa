"""``authsite-mail [--once] <config_uri>``: deliver the queued mail.

Requests queue mail, and mail tasks, in ``mail.queue_path`` (:mod:`app.mail`);
this command loads the app from the same ini file, composes the tasks (they
read the database) and sends the mail with its ``mail.*`` settings (SMTP
``mail.host``, ``mail.port``, ``mail.username``, ``mail.password``,
``mail.tls``/``mail.ssl``). It runs until stopped, going through the queue
every ``mail.queue_interval`` seconds (a service, e.g. a systemd unit);
``--once`` goes through it once and exits (cron). Several copies may run on
one queue: each message is delivered once. A message that cannot be
delivered (SMTP down) stays queued for the next run; one the server refuses
for good (5xx) is set aside as ``.rejected-<name>`` in the queue's ``new/``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from pyramid.paster import bootstrap, setup_logging

from app.mail import mail_settings, queue_processor

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="authsite-mail", description="Deliver the site's queued mail."
    )
    parser.add_argument("config_uri", help="the site's ini file, e.g. production.ini")
    parser.add_argument(
        "--once", action="store_true", help="go through the queue once, then exit"
    )
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    with bootstrap(args.config_uri) as env:
        registry = env["registry"]
        processor = queue_processor(registry)
        if args.once:
            processor.send_messages()
            return 0
        interval = mail_settings(registry).queue_interval
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
        log.info(
            "delivering mail queued in %s every %ss", processor.maildir.path, interval
        )
        try:
            while not stop.is_set():
                processor.send_messages()
                stop.wait(interval)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":  # pragma: no cover - the console script calls main()
    sys.exit(main())

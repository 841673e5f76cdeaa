"""Outgoing mail: queued in the request's transaction, delivered outside it.

:func:`send_mail` is the one way mail leaves the site (the core's magic link
and registration's mail both use it). With ``mail.queue_path`` set, it hands
the message to pyramid_mailer's ``send_to_queue``: ``get_mailer(request)``
binds the mailer to ``request.tm`` (pyramid_tm's explicit manager), so
repoze.sendmail writes the message into the queue's ``tmp/`` and joins that
transaction; the commit moves it to ``new/``, an abort deletes it. A request
therefore costs the same whether or not it mails, a rolled-back request sends
nothing, and mail queued while the SMTP server is down waits in the queue.

Delivery is :class:`MailQueue`, repoze.sendmail's queue processor:

- production: ``authsite-mail production.ini`` (a loop) or
  ``authsite-mail --once production.ini`` from cron (:mod:`app.scripts.mail`);
- development (``app.env = development``): a daemon thread of the serving
  process (:class:`QueueRunner`), woken after each commit that queued mail.

Settings (pyramid_mailer's own ``mail.host``, ``mail.port``, ``mail.username``,
``mail.password``, ``mail.tls``, ``mail.ssl``, ``mail.default_sender``, plus):

- ``mail.queue_path``: the queue, a maildir; required in production.
- ``mail.dev_maildir``: development and testing only: messages are written
  there as ``.eml`` files instead of going to SMTP (``/dev/mail`` lists them).
- ``mail.queue_interval``: seconds between queue runs (default 5); a message
  that could not be delivered is tried again on the next run.

Without ``mail.queue_path`` (development and testing only) mail is sent at
once, inside the request, and a delivery failure raises.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from pyramid.exceptions import ConfigurationError
from pyramid_mailer import get_mailer
from pyramid_mailer.interfaces import IMailer
from pyramid_mailer.mailer import DebugMailer, Mailer
from pyramid_mailer.message import Message as _Message
from repoze.sendmail.maildir import Maildir
from repoze.sendmail.queue import QueueProcessor

from app.settings import SettingsReader

__all__ = [
    "MailQueue",
    "MailSettings",
    "Message",
    "mail_settings",
    "parse_settings",
    "queue_processor",
    "send_mail",
]

log = logging.getLogger(__name__)

SETTINGS_KEY = "app.mail.settings"
RUNNER_KEY = "app.mail.runner"
ENVIRONMENTS = ("development", "production", "testing")


@dataclass(frozen=True)
class MailSettings:
    environment: str
    queue_path: str | None
    dev_maildir: str | None
    queue_interval: float


def parse_settings(
    settings: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> MailSettings:
    """Read ``mail.queue_path``, ``mail.dev_maildir`` and ``mail.queue_interval``."""
    reader = SettingsReader(settings, environ)
    environment = reader.choice("app.env", ENVIRONMENTS, "production", env="APP_ENV")
    queue_path = reader.text("mail.queue_path")
    dev_maildir = reader.text("mail.dev_maildir")
    if environment == "production":
        if dev_maildir:
            raise reader.error(
                "mail.dev_maildir",
                "is for development and testing only; production sends mail "
                "through SMTP (mail.host, mail.port)",
            )
        if not queue_path:
            raise reader.error(
                "mail.queue_path",
                "is required in production: mail is queued there in the "
                "request's transaction and delivered by `authsite-mail <ini>`, "
                "so no request waits for (or reveals) mail delivery; "
                "e.g. mail.queue_path = %(here)s/var/mail-queue",
            )
    interval = reader.number("mail.queue_interval", 5.0, minimum=0.1)
    return MailSettings(environment, queue_path, dev_maildir, interval)


def mail_settings(registry_or_request) -> MailSettings:
    """The parsed settings of an app (pass a registry or a request)."""
    registry = getattr(registry_or_request, "registry", registry_or_request)
    return registry[SETTINGS_KEY]


class Message(_Message):
    """pyramid_mailer's message, with CRLF line ends and a ``Date`` header.

    repoze.sendmail hands smtplib the message as bytes, which smtplib sends
    unchanged, so the email package's bare ``\\n`` line ends would reach the
    server; strict servers (aiosmtpd, Postfix with ``smtpd_forbid_bare_newline``)
    then see one over-long line and refuse the message (RFC 5321 §2.3.8).
    ``Date`` is required by RFC 5322 §3.6 (the queue adds one too; files
    written in development have it from here).
    """

    def to_message(self):
        message = super().to_message()
        message.policy = message.policy.clone(linesep="\r\n")
        if message["Date"] is None:
            message["Date"] = formatdate(localtime=True)
        return message


class DevMaildir:
    """Development delivery: each message becomes ``<dir>/<timestamp>_<random>.eml``.

    Written under a dot-name first and renamed, so ``/dev/mail`` never reads
    half a file. ``send`` has the signature of repoze.sendmail's mailers, so
    the queue processor can deliver here.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, fromaddr: str, toaddrs, message) -> None:
        stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S")
        name = f"{stamp}_{secrets.token_hex(4)}.eml"
        partial = self.directory / f".{name}.part"
        partial.write_bytes(message.as_bytes())
        os.replace(partial, self.directory / name)


class DevMailer(DebugMailer):
    """pyramid_mailer's file mailer, writing through :class:`DevMaildir`."""

    def __init__(self, directory: str | Path) -> None:
        super().__init__(str(directory))
        self.maildir = DevMaildir(directory)

    def _write(self, message: _Message, fail_silently: bool = False) -> None:
        self.maildir.send(message.sender, message.send_to, message.to_message())

    send = send_immediately = send_to_queue = _write
    send_sendmail = send_immediately_sendmail = _write


class _QueuedMessages(Maildir):
    """repoze.sendmail's maildir, listing queued messages only.

    repoze's ``Maildir.__iter__`` globs every name, dot-files included, so
    the processor's own ``.sending-<name>`` (in-flight) and
    ``.rejected-<name>`` (refused) links would be delivered as messages of
    their own: duplicates, and refused mail sent again on every run. The
    maildir convention (and repoze's own comment) is to skip them.
    """

    def __iter__(self):
        return (
            p for p in super().__iter__() if not os.path.basename(p).startswith(".")
        )


class _Attempt:
    """The processor's mailer: passes messages on, noting whether the last failed."""

    def __init__(self, mailer) -> None:
        self.mailer = mailer
        self.failed = False

    def send(self, fromaddr: str, toaddrs, message) -> None:
        self.failed = True
        self.mailer.send(fromaddr, toaddrs, message)
        self.failed = False


class MailQueue(QueueProcessor):
    """repoze.sendmail's queue processor, fixed to retry failed messages.

    Each message is delivered by at most one process at a time (repoze links
    it to ``.sending-<name>`` first). When delivery fails (SMTP down, a 4xx)
    repoze logs it and leaves that link, and any run in the next three hours
    (``MAX_SEND_TIME``) takes it for another process's delivery in progress;
    here the process that failed removes its own link, so the next run tries
    again. A permanent refusal (5xx) is set aside as ``.rejected-<name>``.
    """

    def __init__(self, mailer, queue_path: str) -> None:
        super().__init__(_Attempt(mailer), queue_path, Maildir=_QueuedMessages)

    def _parseMessage(self, fp):
        fromaddr, toaddrs, message = super()._parseMessage(fp)
        message.policy = message.policy.clone(linesep="\r\n")  # see Message
        return fromaddr, toaddrs, message

    def _send_message(self, filename: str) -> None:
        self.mailer.failed = False
        super()._send_message(filename)
        if self.mailer.failed:
            head, tail = os.path.split(filename)
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(head, ".sending-" + tail))

    def pending(self) -> int:
        """How many messages wait in the queue."""
        return sum(1 for _ in self.maildir)


def create_queue(path: str) -> None:
    """Make ``path`` a maildir (``cur``, ``new``, ``tmp``), parents included."""
    for sub in ("cur", "new", "tmp"):
        (Path(path) / sub).mkdir(parents=True, exist_ok=True)


def queue_processor(settings: Mapping[str, object]) -> MailQueue:
    """The processor for an app's settings: into ``mail.dev_maildir`` if set, else SMTP."""
    parsed = parse_settings(settings)
    if not parsed.queue_path:
        raise ConfigurationError("setting mail.queue_path: no mail queue is configured")
    if parsed.dev_maildir:
        mailer = DevMaildir(parsed.dev_maildir)
    else:
        mailer = Mailer.from_settings(settings, "mail.").smtp_mailer
    create_queue(parsed.queue_path)
    return MailQueue(mailer, parsed.queue_path)


class QueueRunner:
    """Development: delivers the queue from a daemon thread of the serving process.

    It runs every ``mail.queue_interval`` seconds and right after each commit
    that queued mail. It holds its app's registry only weakly and stops once
    the app is gone (tests build many apps in one process).
    """

    def __init__(self, processor: MailQueue, interval: float, owner) -> None:
        self.processor = processor
        self.interval = interval
        self._owner = weakref.ref(owner)
        self._wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="mail-queue", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wake(self, committed: bool = True) -> None:
        """An after-commit hook: deliver now what the transaction queued."""
        if committed:
            self._wake.set()

    def _run(self) -> None:
        while self._owner() is not None:
            self._wake.clear()
            try:
                self.processor.send_messages()
            except Exception:  # the queue directory itself failed; try again later
                log.exception("mail queue run failed")
            self._wake.wait(self.interval)


def send_mail(request, message: Message) -> None:
    """Send ``message`` as part of ``request``'s transaction; every sender uses this.

    Queued (``mail.queue_path``): written now, released by the commit, gone
    with an abort. Not queued (development and testing only): sent at once;
    a delivery failure raises.
    """
    mailer = get_mailer(request)
    if not mail_settings(request).queue_path:
        mailer.send_immediately(message, fail_silently=False)
        return
    mailer.send_to_queue(message)
    runner = request.registry.get(RUNNER_KEY)
    if runner is not None:
        request.tm.get().addAfterCommitHook(runner.wake)


def includeme(config) -> None:
    settings = config.get_settings()
    parsed = parse_settings(settings)
    config.registry[SETTINGS_KEY] = parsed
    if parsed.dev_maildir and not parsed.queue_path:
        mailer = DevMailer(parsed.dev_maildir)
        log.info("development mail goes to %s", parsed.dev_maildir)
    else:
        mailer = Mailer.from_settings(settings, "mail.")
    config.registry.registerUtility(mailer, IMailer)
    config.add_request_method(get_mailer, "mailer", reify=True)
    if parsed.queue_path:
        # Create the queue now: an unusable path stops start-up, not a request.
        create_queue(parsed.queue_path)
        if parsed.environment == "development":
            runner = QueueRunner(
                queue_processor(settings), parsed.queue_interval, config.registry
            )
            config.registry[RUNNER_KEY] = runner
            config.action(RUNNER_KEY, runner.start)  # once configuration succeeded
            log.info(
                "mail queue %s delivered by this process every %ss",
                parsed.queue_path,
                parsed.queue_interval,
            )

"""Outgoing mail: queued in the request's transaction, delivered outside it.

:func:`send_mail` is the one way mail leaves the site (the core's magic link
and registration's mail both use it). With ``mail.queue_path`` set, it hands
the message to pyramid_mailer's ``send_to_queue``: ``get_mailer(request)``
binds the mailer to ``request.tm`` (pyramid_tm's explicit manager), so
repoze.sendmail writes the message into the queue's ``tmp/`` and joins that
transaction; the commit moves it to ``new/``, an abort deletes it. No request
waits for SMTP, a rolled-back request sends nothing, and mail queued while
the SMTP server is down waits in the queue.

:func:`queue_mail_task` goes one step further for requests whose answer
must not depend on what they mail: it queues a *task*, composed at delivery
(the look-up, the token, the message), so the request costs the same
whatever the task will find. (Queueing the finished mail is not enough: the
token write and the rendering made a reset for a known address take about
twice as long as one for an unknown address, measured over a live server.)

Delivery is :class:`MailQueue`, repoze.sendmail's queue processor (fixed to
retry, and composing tasks in the app), so it runs with the app loaded:

- production: ``authsite-mail production.ini`` (a loop) or
  ``authsite-mail --once production.ini`` from cron (:mod:`app.scripts.mail`);
  repoze's own ``qp`` cannot compose tasks;
- development (``app.env = development``): a daemon thread of the serving
  process (:class:`QueueRunner`), woken after each request that queued mail.

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
import json
import logging
import os
import secrets
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import IRequestFactory
from pyramid.request import Request
from pyramid.scripting import prepare
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
    "queue_mail_task",
    "queue_processor",
    "send_mail",
]

log = logging.getLogger(__name__)

SETTINGS_KEY = "app.mail.settings"
RUNNER_KEY = "app.mail.runner"
TASKS_KEY = "app.mail.tasks"
TASK_HEADER = "X-Authsite-Mail-Task"


@dataclass(frozen=True)
class MailSettings:
    environment: str
    queue_path: str | None
    dev_maildir: str | None
    queue_interval: float
    default_sender: str | None


def parse_settings(
    settings: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> MailSettings:
    """Read ``mail.queue_path``, ``mail.dev_maildir`` and ``mail.queue_interval``."""
    reader = SettingsReader(settings, environ)
    environment = reader.environment()
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
    sender = reader.text("mail.default_sender")
    return MailSettings(environment, queue_path, dev_maildir, interval, sender)


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
    """pyramid_mailer's file mailer, writing through :class:`DevMaildir`.

    A message without a sender gets ``mail.default_sender``, as from
    pyramid_mailer's SMTP mailer.
    """

    def __init__(self, directory: str | Path, default_sender: str | None) -> None:
        super().__init__(str(directory))
        self.maildir = DevMaildir(directory)
        self.default_sender = default_sender or "no-reply@localhost"

    def _write(self, message: _Message, fail_silently: bool = False) -> None:
        message.sender = message.sender or self.default_sender
        self.maildir.send(message.sender, message.send_to, message.to_message())

    send = send_immediately = send_to_queue = _write
    send_sendmail = send_immediately_sendmail = _write


class _QueuedMessages(Maildir):
    """repoze.sendmail's maildir, listing queued messages only, oldest first.

    repoze's ``Maildir.__iter__`` globs every name, dot-files included, so
    the processor's own ``.sending-<name>`` (in-flight) and
    ``.rejected-<name>`` (refused) links would be delivered as messages of
    their own: duplicates, and refused mail sent again on every run. The
    maildir convention (and repoze's own comment) is to skip them. It also
    fails when another process delivers a file between listing and reading
    its time; such a file is simply not listed.
    """

    def __iter__(self):
        found = []
        for folder in (self.subdir_new, self.subdir_cur):
            for path in folder.iterdir():
                if path.name.startswith("."):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    found.append((path.stat().st_mtime, str(path)))
        return iter(name for _, name in sorted(found))


class _Delivery:
    """The processor's mailer: composes tasks, sends the rest, noting failures."""

    def __init__(self, mailer, registry) -> None:
        self.mailer = mailer
        self.registry = registry
        self.failed = False
        self.composed = 0

    def send(self, fromaddr: str, toaddrs, message) -> None:
        self.failed = True
        name = message[TASK_HEADER]
        if name is None:
            self.mailer.send(fromaddr, toaddrs, message)
        else:
            run_mail_task(self.registry, str(name), message.get_payload(decode=True))
            self.composed += 1
        self.failed = False


class MailQueue(QueueProcessor):
    """repoze.sendmail's queue processor, fixed to retry, and composing mail tasks.

    Each message is delivered by at most one process at a time (repoze links
    it to ``.sending-<name>`` first). When delivery fails (SMTP down, a 4xx)
    repoze logs it and leaves that link, and any run in the next three hours
    (``MAX_SEND_TIME``) takes it for another process's delivery in progress;
    here the process that failed removes its own link, so the next run tries
    again. A permanent refusal (5xx) is set aside as ``.rejected-<name>``.

    A task (:func:`queue_mail_task`) is composed in the app ``registry``; the
    mail it queues goes out in the same run. A task that fails (database
    down) stays queued, like undelivered mail.
    """

    def __init__(self, mailer, queue_path: str, registry) -> None:
        super().__init__(
            _Delivery(mailer, registry), queue_path, Maildir=_QueuedMessages
        )

    def send_messages(self) -> None:
        self.mailer.composed = 0
        super().send_messages()
        if self.mailer.composed:
            super().send_messages()

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
        """How many messages (and tasks) wait in the queue."""
        return sum(1 for _ in self.maildir)


def create_queue(path: str) -> None:
    """Make ``path`` a maildir (``cur``, ``new``, ``tmp``), parents included."""
    for sub in ("cur", "new", "tmp"):
        (Path(path) / sub).mkdir(parents=True, exist_ok=True)


def queue_processor(registry) -> MailQueue:
    """The processor of an app: into ``mail.dev_maildir`` if set, else SMTP."""
    settings = registry.settings
    parsed = mail_settings(registry)
    if not parsed.queue_path:
        raise ConfigurationError("setting mail.queue_path: no mail queue is configured")
    if parsed.dev_maildir:
        mailer = DevMaildir(parsed.dev_maildir)
    else:
        mailer = Mailer.from_settings(settings, "mail.").smtp_mailer
    return MailQueue(mailer, parsed.queue_path, registry)


class QueueRunner:
    """Development: delivers the queue from a daemon thread of the serving process.

    It runs every ``mail.queue_interval`` seconds and right after each request
    that queued mail. It holds its app's registry only weakly (a processor is
    made for each run) and stops once the app is gone: tests build many apps
    in one process.
    """

    def __init__(self, registry, interval: float) -> None:
        self.interval = interval
        self._registry = weakref.ref(registry)
        self._wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="mail-queue", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wake(self, request=None) -> None:
        """A finished callback: deliver now what the request queued."""
        self._wake.set()

    def _run(self) -> None:
        while True:
            registry = self._registry()
            if registry is None:
                return
            self._wake.clear()
            try:
                queue_processor(registry).send_messages()
            except Exception:  # the queue directory itself failed; try again later
                log.exception("mail queue run failed")
            del registry
            self._wake.wait(self.interval)


def _queued(request) -> None:
    runner = request.registry.get(RUNNER_KEY)
    if runner is not None:
        # Once the request is over (its transaction committed or not): an
        # after-commit hook would make the transaction abort the committed
        # queue entry again afterwards, which repoze logs as an error.
        request.add_finished_callback(runner.wake)


def send_mail(request, message: Message) -> None:
    """Send ``message`` as part of ``request``'s transaction; every sender uses this.

    Queued (``mail.queue_path``): written now, released by the commit, gone
    with an abort. Not queued (development and testing only): sent at once;
    a delivery failure raises. So does a recipient whose address is not
    ASCII (one stored before addresses were made ASCII): mail leaves without
    SMTPUTF8, so it could never be delivered, and queued it would fail on
    every run of the queue.
    """
    if not all(address.isascii() for address in message.send_to):
        raise ValueError("a recipient's address is not ASCII (no SMTPUTF8)")
    mailer = get_mailer(request)
    if not mail_settings(request).queue_path:
        mailer.send_immediately(message, fail_silently=False)
        return
    mailer.send_to_queue(message)
    _queued(request)


# mail tasks --------------------------------------------------------------------
def add_mail_task(config, name: str, composer) -> None:
    """``config.add_mail_task(name, composer)``: a task :func:`queue_mail_task` can queue."""
    composer = config.maybe_dotted(composer)

    def register() -> None:
        config.registry.setdefault(TASKS_KEY, {})[name] = composer

    config.action(("app.mail.task", name), register)


def queue_mail_task(request, name: str, app_url: str, **values: str) -> None:
    """Queue mail that is composed when the queue is delivered, not in this request.

    For requests whose answer must not depend on what they mail, or whether
    they mail at all: a reset request for an address that may or may not
    have an account queues the same task either way, so it costs the same;
    the look-up, the token and the message happen at delivery. There,
    ``composer(request, **values)`` (``config.add_mail_task``) runs in a
    transaction of its own, with a request on ``app_url`` (the public URL the
    links must use), and sends what it has to with :func:`send_mail`.
    Without a queue (development and testing only) it runs now, in this
    request.
    """
    composer = request.registry.get(TASKS_KEY, {})[name]
    if not mail_settings(request).queue_path:
        composer(request, **values)
        return
    message = EmailMessage()
    message[TASK_HEADER] = name
    message.set_content(json.dumps({"app_url": app_url, "values": values}))
    # Straight to the queue: a task is no mail (no recipient), and must never
    # reach an SMTP server (repoze's plain `qp` cannot compose it and fails).
    get_mailer(request).queue_delivery.send("", (), message)
    _queued(request)


def run_mail_task(registry, name: str, payload: bytes) -> None:
    """Compose a queued task: its composer, in a request and transaction of its own."""
    composer = registry[TASKS_KEY][name]
    task = json.loads(payload)
    factory = registry.queryUtility(IRequestFactory, default=Request)
    # A POST, as a task may write (a token): on SQLite its transaction then
    # begins IMMEDIATE, waiting for the write lock, as requests that may write
    # do; begun deferred, a write after a read fails at once ("database is
    # locked") if another writer committed in between.
    blank = factory.blank("/", base_url=task["app_url"], method="POST")
    with prepare(blank, registry) as env:
        request = env["request"]
        request.root = env["root"]
        with request.tm:
            composer(request, **task["values"])
    log.info("mail task %s composed", name)


def includeme(config) -> None:
    settings = config.get_settings()
    parsed = parse_settings(settings)
    config.registry[SETTINGS_KEY] = parsed
    if parsed.dev_maildir and not parsed.queue_path:
        mailer = DevMailer(parsed.dev_maildir, parsed.default_sender)
        log.info("development mail goes to %s", parsed.dev_maildir)
    else:
        mailer = Mailer.from_settings(settings, "mail.")
    config.registry.registerUtility(mailer, IMailer)
    config.add_request_method(get_mailer, "mailer", reify=True)
    config.add_directive("add_mail_task", add_mail_task)
    if parsed.queue_path:
        # Create the queue now: an unusable path stops start-up, not a request.
        create_queue(parsed.queue_path)
        if parsed.environment == "development":
            runner = QueueRunner(config.registry, parsed.queue_interval)
            config.registry[RUNNER_KEY] = runner
            config.action(RUNNER_KEY, runner.start)  # once configuration succeeded
            log.info(
                "mail queue %s delivered by this process every %ss",
                parsed.queue_path,
                parsed.queue_interval,
            )

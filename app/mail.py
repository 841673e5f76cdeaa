"""Outgoing mail through pyramid_mailer: real SMTP, or readable files in development.

``mail.*`` are pyramid_mailer's own keys (``mail.host``, ``mail.port``,
``mail.username``, ``mail.tls`` ...). When ``mail.dev_maildir`` is set
(development.ini does), messages are written there as ``.eml`` files instead
of being sent, so a person can read them without a mail server.

Code sends with ``request.mailer`` (pyramid_mailer's ``get_mailer``) and
builds messages with :class:`Message` from here, never pyramid_mailer's own.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pyramid_mailer import get_mailer
from pyramid_mailer.interfaces import IMailer
from pyramid_mailer.mailer import DebugMailer, Mailer
from pyramid_mailer.message import Message as _Message

log = logging.getLogger(__name__)


class Message(_Message):
    """pyramid_mailer's message, written with CRLF line ends as SMTP requires.

    repoze.sendmail hands smtplib the message as bytes, which smtplib sends
    unchanged, so the email package's bare ``\\n`` line ends would reach the
    server; strict servers (aiosmtpd, Postfix with ``smtpd_forbid_bare_newline``)
    then see one over-long line and refuse the message (RFC 5321 §2.3.8).
    """

    def to_message(self):
        message = super().to_message()
        message.policy = message.policy.clone(linesep="\r\n")
        return message


class DevMailer(DebugMailer):
    """Writes each message to ``<dir>/<timestamp>_<random>.eml``."""

    @property
    def directory(self) -> Path:
        return Path(self.tld)


def send_mail(request, message: Message) -> None:
    """Hand ``message`` to the request's mailer; every sender goes through here.

    (Delivery policy, e.g. a transactional queue, lives in this one place.)
    """
    get_mailer(request).send_immediately(message, fail_silently=False)


def includeme(config) -> None:
    settings = config.get_settings()
    maildir = settings.get("mail.dev_maildir")
    if maildir:
        mailer = DevMailer(maildir)
        log.info("development mail goes to %s", maildir)
    else:
        mailer = Mailer.from_settings(settings, "mail.")
    config.registry.registerUtility(mailer, IMailer)
    config.add_request_method(get_mailer, "mailer", reify=True)

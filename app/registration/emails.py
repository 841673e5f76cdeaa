"""Registration's outgoing mail: rendered from templates, sent after commit.

Messages are handed to ``request.mailer`` (``app.mail``: SMTP, or ``.eml``
files in development) only once the request's transaction has committed, so
an aborted or retried request never mails a link to a row that does not
exist. A delivery failure is logged, never turned into an error page: the
reset form must answer the same whether or not an account (and so a mail)
was involved.
"""

from __future__ import annotations

import logging
from typing import Any

from pyramid.renderers import render

from app.mail import Message

log = logging.getLogger(__name__)

TEMPLATES = "app.registration:templates/mail/{}.txt.jinja2"

SUBJECTS = {
    "verify": "Confirm your email address",
    "account_exists": "Someone tried to sign up with your email address",
    "reset": "Reset your password",
}


class Postman:
    """Renders and queues mail for one request."""

    def __init__(self, request, sender: str, site_name: str) -> None:
        self.request = request
        self.sender = sender
        self.site_name = site_name

    def send(self, kind: str, to: str, **values: Any) -> None:
        values.setdefault("site_name", self.site_name or "our site")
        body = render(TEMPLATES.format(kind), values, request=self.request)
        subject = SUBJECTS[kind]
        if self.site_name:
            subject = f"{subject} ({self.site_name})"
        message = Message(
            subject=subject, sender=self.sender, recipients=[to], body=body
        )
        self.request.tm.get().addAfterCommitHook(self._deliver, args=(kind, message))

    def _deliver(self, committed: bool, kind: str, message: Message) -> None:
        if not committed:
            return
        try:
            self.request.mailer.send_immediately(message)
            log.info("mail sent kind=%s", kind)
        except Exception as exc:  # noqa: BLE001 - logged; the answer must not change
            log.warning("mail not sent kind=%s: %s: %s", kind, type(exc).__name__, exc)

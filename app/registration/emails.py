"""Registration's outgoing mail: rendered from templates, sent with :func:`app.mail.send_mail`.

``send_mail`` queues the message in the request's transaction (with
``mail.queue_path``), so an aborted or retried request never mails a link to
a row that does not exist, and the request does not wait for SMTP. A failure
to hand the message over is logged, never turned into an error page: the
reset form must answer the same whether or not an account (and so a mail)
was involved.
"""

from __future__ import annotations

import logging
from typing import Any

from pyramid.renderers import render

from app.mail import Message, send_mail

log = logging.getLogger(__name__)

TEMPLATES = "app.registration:templates/mail/{}.txt.jinja2"

SUBJECTS = {
    "verify": "Confirm your email address",
    "account_exists": "Someone tried to sign up with your email address",
    "reset": "Reset your password",
    "account_claimed": "An unconfirmed sign-up on your email address was reset",
    "password_changed": "Your password was changed",
    "email_change": "Confirm your new email address",
    "email_change_requested": "A change of your email address was requested",
    "email_change_taken": "Someone tried to move an account to your email address",
    "email_changed": "Your email address was changed",
    "account_linked": "A new sign-in method was linked to your account",
}


class Postman:
    """Renders and sends registration's mail for one request."""

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
        try:
            send_mail(self.request, message)
        except Exception as exc:  # noqa: BLE001 - logged; the answer must not change
            log.warning("mail not sent kind=%s: %s: %s", kind, type(exc).__name__, exc)
            return
        log.info("mail sent kind=%s", kind)

"""``/dev/mail``: the development mailbox (``app.env = development``, ``mail.dev_maildir``).

Lists the ``.eml`` files :class:`app.mail.DevMailer` wrote, newest first, with
the links found in each, so the signup, verification and reset flows can be
clicked through in a browser without a mail server. Never mounted in
production (see :func:`app.registration.includeme`). Where it is mounted,
every page gets ``dev_mail_url``, so the "check your email" pages (the
core's included) can point at it.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from pyramid.events import BeforeRender, subscriber
from pyramid.view import view_config

from app.registration.resources import DEVMAIL_PATH, DevMailbox, DevMessage
from app.registration.views.common import private_page, template

log = logging.getLogger(__name__)

_LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class MailSummary:
    name: str
    subject: str
    to: str
    date: dt.datetime | None
    body: str
    links: tuple[str, ...]


def read_message(path: Path) -> MailSummary:
    with path.open("rb") as fh:
        message = email.message_from_binary_file(fh, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain", "html"))
    try:
        body = part.get_content() if part is not None else ""
    except (LookupError, ValueError):
        body = ""
    return MailSummary(
        name=path.name,
        subject=str(message.get("Subject", "")),
        to=str(message.get("To", "")),
        date=_date(message.get("Date")),
        body=body,
        links=tuple(dict.fromkeys(_LINK.findall(body))),
    )


def _date(header: object) -> dt.datetime | None:
    if header is None:
        return None
    try:
        return email.utils.parsedate_to_datetime(str(header))
    except (TypeError, ValueError):
        return None


@subscriber(BeforeRender)
def add_dev_mail_url(event: BeforeRender) -> None:
    # A path (no host): the 400 page renders for requests whose Host header
    # cannot make a URL. Mail templates rendered outside a request get none.
    request = event.get("request")
    if request is not None:
        event.setdefault("dev_mail_url", request.script_name + DEVMAIL_PATH)


@view_config(
    context=DevMailbox,
    request_method="GET",
    renderer=template("devmail"),
    permission="view",
)
def mailbox(context: DevMailbox, request) -> dict:
    private_page(request)
    messages = []
    for path in context.messages()[:200]:
        try:
            messages.append(read_message(path))
        except OSError as exc:
            log.info("unreadable dev mail %s: %s", path.name, exc)
    return {
        "messages": messages,
        "directory": str(context.directory),
        "url": lambda m: request.resource_url(context, m.name),
    }


@view_config(
    context=DevMessage,
    request_method="GET",
    renderer=template("devmail_message"),
    permission="view",
)
def message(context: DevMessage, request) -> dict:
    private_page(request)
    return {
        "message": read_message(context.path),
        "mailbox_url": request.resource_url(context.__parent__),
    }

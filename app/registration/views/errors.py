"""Registration's error pages: throttled (429), expired (CSRF) and unreadable forms."""

from __future__ import annotations

import logging

from pyramid.exceptions import BadCSRFToken
from pyramid.view import exception_view_config

from app.registration.errors import TooManyAttempts, UnreadableForm
from app.registration.resources import IRegistrationPage
from app.registration.views.common import private_page, template

log = logging.getLogger(__name__)


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@exception_view_config(TooManyAttempts, renderer=template("too_many_attempts"))
def too_many_attempts(exc: TooManyAttempts, request) -> dict:
    private_page(request)
    request.response.status = 429
    request.response.headers["Retry-After"] = str(exc.retry_after)
    return {"retry_after": exc.retry_after, "wait": _wait_text(exc.retry_after)}


@exception_view_config(
    BadCSRFToken, containment=IRegistrationPage, renderer=template("form_expired")
)
def form_expired(exc: BadCSRFToken, request) -> dict:
    log.info("CSRF check failed on %s", request.path_info[:200])
    private_page(request)
    request.response.status = 400
    return {"back_url": request.path_url}


@exception_view_config(UnreadableForm, renderer=template("form_unreadable"))
def form_unreadable(exc: UnreadableForm, request) -> dict:
    log.info("unreadable form body on %s: %s", request.path_info[:200], exc)
    private_page(request)
    request.response.status = 400
    return {"back_url": request.path_url}

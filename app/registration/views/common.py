"""What every registration page shares: client key, headers, callback URLs."""

from __future__ import annotations

from app.registration.interfaces import IPasswordPolicy, IRateLimiter, IRegistration
from app.registration.ratelimit import client_key

TEMPLATES = "app.registration:templates/{}.jinja2"
MAX_CALLBACK_URL = 2048


def template(name: str) -> str:
    return TEMPLATES.format(name)


def private_page(request, *, token_in_url: bool = False) -> None:
    """Never cached; pages reached by a token link also send no Referer onwards."""
    headers = request.response.headers
    headers["Cache-Control"] = "private, no-store"
    if token_in_url:
        headers["Referrer-Policy"] = "no-referrer"


def first_attempt(request) -> bool:
    """False on a pyramid_retry re-run, so one submission counts once."""
    return not request.environ.get("retry.attempt")


def throttle(request, action: str) -> None:
    """Count this submission against ``action``'s per-client limit.

    Raises :class:`TooManyAttempts` when over it.
    """
    if first_attempt(request):
        request.find_service(IRateLimiter).consume(action, client_key(request))


def registration(request):
    return request.find_service(IRegistration)


def policy(request):
    return request.find_service(IPasswordPolicy)


def callback_url(request) -> str:
    """The ``callbackUrl`` carried through the form (checked again by the core)."""
    value = request.params.get("callbackUrl", "")
    if not isinstance(value, str) or len(value) > MAX_CALLBACK_URL:
        return ""
    return value

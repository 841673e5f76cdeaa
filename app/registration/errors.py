"""Registration's errors, each mapped to a page in exactly one place.

- :class:`TooManyAttempts` -> HTTP 429 with ``Retry-After`` and a friendly page
  (:mod:`app.registration.views.errors`). On the core's sign-in POST the
  throttle raises the core's ``CredentialsSignin(code="rate_limited")``
  instead, which the core answers with its own redirect.
- :class:`TokenError` and subclasses: an emailed link that is forged,
  already used or expired; the flow's view renders the "link not valid" page.
- :class:`UnreadableForm` -> HTTP 400 "request not readable" (a query string
  that is not UTF-8, a body in another charset, a broken multipart body).
"""

from __future__ import annotations


class RegistrationError(Exception):
    """Base of registration's own errors."""


class TooManyAttempts(RegistrationError):
    """An action went over its rate limit; ``retry_after`` is in whole seconds."""

    def __init__(self, action: str, retry_after: int) -> None:
        super().__init__(f"rate limit {action} exceeded; retry after {retry_after}s")
        self.action = action
        self.retry_after = max(1, int(retry_after))


class TokenError(RegistrationError):
    """An emailed token that cannot be used."""

    reason = "invalid"


class TokenInvalid(TokenError):
    """Forged, mistyped or already used (used tokens are deleted)."""

    reason = "invalid"


class TokenExpired(TokenError):
    reason = "expired"


class UnreadableForm(RegistrationError):
    """A query string or POST body WebOb cannot decode into fields."""

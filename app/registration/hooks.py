"""Registration's hooks into the core's extension points, and its mail tasks.

- :func:`throttle_magic_links`, a ``signin`` callback: the core asks it before
  mailing a magic link (``email={"verificationRequest": True}``); it counts the
  request per client address (``ratelimit.magic_link_ip``) and per address
  mailed (``ratelimit.mail_account``, shared with reset and verification
  mail) and, over a limit, raises ``RateLimited``: the core sends the browser
  to ``signin?error=RateLimited`` with ``Retry-After``, and mails nothing.
- :func:`unverified_account_claimed`, an ``UnverifiedAccountClaimed``
  subscriber: drops the password of the claimed account and tells the owner
  (:meth:`Registration.account_claimed`); the core has ended its sessions.
- :data:`RESET_TASK` and :data:`RESEND_TASK`, mail tasks
  (:func:`app.mail.queue_mail_task`): the reset and verification-resend
  forms answer before the address is looked at; the look-up, the token and
  the mail happen when the queue is delivered, so the answer takes as long
  for an address with an account as for one without.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.auth import RateLimited, UnverifiedAccountClaimed
from app.registration.interfaces import IRateLimiter, IRegistration
from app.registration.ratelimit import account_key, client_key, first_attempt


def throttle_magic_links(request, *, user=None, email=None, **kw) -> bool:
    """The ``signin`` callback: allow every sign-in, throttle magic-link requests."""
    if not (isinstance(email, Mapping) and email.get("verificationRequest")):
        return True
    if first_attempt(request):  # a pyramid_retry re-run was counted already
        address = getattr(user, "email", None) or ""
        wait = request.find_service(IRateLimiter).attempt(
            ("magic_link_ip", client_key(request)),
            ("mail_account", account_key(address)),
        )
        if wait is not None:
            raise RateLimited("magic-link requests over the limit", retry_after=wait)
    return True


RESET_TASK = "registration.reset"
RESEND_TASK = "registration.verification-resend"


def compose_reset(request, *, email: str) -> None:
    request.find_service(IRegistration).request_reset(email)


def compose_resend(request, *, email: str) -> None:
    request.find_service(IRegistration).resend_verification(email)


def unverified_account_claimed(event: UnverifiedAccountClaimed) -> None:
    request = event.request
    request.find_service(IRegistration).account_claimed(event.user, event.provider_id)

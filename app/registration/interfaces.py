"""The seams of the registration package, looked up with ``request.find_service``.

Singletons built once at start-up (they hold no request state):
:class:`IPasswordHasher`, :class:`IPasswordPolicy`, :class:`IRateLimiter`.
Per request: :class:`IRegistration` (the flows) and
:class:`ICredentialStore` (registration's tables on ``request.dbsession``).
"""

from __future__ import annotations

from zope.interface import Interface


class IPasswordHasher(Interface):
    def hash(password):
        """The passlib hash string of a (normalised) password."""

    def verify(password, hash):
        """``(ok, new_hash_or_None)``; a new hash means "store this instead"."""

    def verify_dummy(password):
        """Pay one verification against a fixed hash; always False."""


class IPasswordPolicy(Interface):
    def check(password, email=None):
        """The first :class:`~app.registration.passwords.Refusal`, or None."""


class IRateLimiter(Interface):
    def attempt(*pairs):
        """Count an attempt for each ``(action, key)``; seconds to wait if over
        a limit (refuse the attempt), else None."""

    def consume(*pairs):
        """:meth:`attempt`, raising ``TooManyAttempts`` when over a limit."""

    def clear(action, key):
        """Forget the attempts counted for ``(action, key)`` (a refund)."""


class ICredentialStore(Interface):
    """Registration's rows: password hashes and emailed tokens."""


class IRegistration(Interface):
    """Signup, email verification, password reset and the credentials check."""

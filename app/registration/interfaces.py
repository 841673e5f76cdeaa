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

    def savepoint():
        """A context manager: a nested transaction, rolled back on error."""

    def get_password(user_id):
        """The user's stored credential, or None."""

    def set_password(user_id, hash, now):
        """Store ``hash`` as the user's password (replacing any)."""

    def rehash(user_id, hash):
        """Replace the stored hash (a stronger one for the same password)."""

    def disable_password(user_id, now):
        """Drop the user's password; True when there was one."""

    def issue_token(user_id, purpose, email, now, max_age):
        """A new emailed token (the raw value; only its hash is stored)."""

    def peek_token(raw, purpose):
        """The token's row if it exists, used or not, expired or not."""

    def use_token(raw, purpose):
        """Consume the token: its row once, then None."""

    def delete_tokens(user_id, purpose):
        """Void the user's tokens for ``purpose``."""


class IRegistration(Interface):
    """Signup, email verification, password reset and the credentials check."""

    def signup(email, name, password):
        """Create the account (or not: a taken address); a ``SignupOutcome``."""

    def check_token(raw, purpose):
        """The usable token's info, or raise ``TokenError``."""

    def confirm_email(raw):
        """Mark the address of the token's user verified; the user."""

    def resend_verification(email):
        """Mail a new verification link, if the address has an unverified account."""

    def request_reset(email):
        """Mail a reset link, if the address has an account."""

    def reset_password(raw, password):
        """Set a new password from a reset token; ends the user's sessions."""

    def account_claimed(user, provider_id):
        """Another channel proved the address of an unverified account."""

    def authenticate(email, password, client):
        """The credentials check: the user, or raise ``CredentialsSignin``."""

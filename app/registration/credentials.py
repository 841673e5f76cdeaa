"""The email-and-password credentials provider this package adds to the core.

This is the worked example of extending the core's credentials provider: the
core renders the form, checks Auth.js's CSRF token, and signs in whoever
``authorize`` returns; the password checking is ours
(:meth:`app.registration.services.Registration.authenticate`).
"""

from __future__ import annotations

from app.auth import AdapterUser, CredentialField, Credentials
from app.registration.interfaces import IRegistration
from app.registration.ratelimit import client_key

PROVIDER_ID = "credentials"


def authorize(request, credentials: dict[str, str]) -> AdapterUser:
    """The core's ``authorize``: return a user, or raise ``CredentialsSignin``."""
    registration = request.find_service(IRegistration)
    return registration.authenticate(
        credentials.get("email", ""),
        credentials.get("password", ""),
        client_key(request),
    )


class EmailPassword(Credentials):
    """The core's credentials provider; its sign-in form also links to signup
    and to password reset (the core's own form fragment, included)."""

    template = "app.registration:templates/signin_credentials.jinja2"


def credentials_provider() -> Credentials:
    return EmailPassword(
        authorize=authorize,
        fields=[
            CredentialField("email", "Email", "email", "email"),
            CredentialField("password", "Password", "password", "current-password"),
        ],
        id=PROVIDER_ID,
        name="Email and password",
    )

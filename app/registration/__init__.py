"""Signup, email verification and password reset, outside the auth core.

Auth.js has no signup; neither has ``app.auth``. This package is an
application of the core's public API (``app.auth`` only, never its
submodules): ``config.include("app.registration")``

- parses ``registration.*`` and ``ratelimit.*`` into :class:`RegistrationSettings`;
- adds the ``credentials`` provider (email + password) whose ``authorize``
  checks argon2id hashes kept in this package's own tables;
- adds a ``signin`` callback throttling magic-link requests, an
  ``UnverifiedAccountClaimed`` subscriber and the mail tasks of the reset
  and verification-resend forms (:mod:`app.registration.hooks`);
- adds a ``signin`` callback asking for a recent sign-in before an OAuth
  account is linked to the signed-in person, and mails a notice on
  ``AccountLinked`` (:mod:`app.registration.account`);
- mounts ``/signup``, ``/account`` (the account page: password, email,
  sign-in methods, deletion, and ``/account/sessions``, the person's
  sessions through the core's session registry), ``/account/verify``,
  ``/account/reset`` and, when
  ``app.env = development`` and ``mail.dev_maildir`` is set, ``/dev/mail``.

Outside development it refuses to start without ``auth.url``: it mails
links, and a link must never take its host from a request header.

Pre-registration takeover: anybody can sign up with an address they do not
own; until the address is confirmed, the account is only a claim. When the
address is proven through another channel (a magic link, or an OAuth/OIDC
provider that verified it), the core fires ``UnverifiedAccountClaimed`` and
this package drops the password chosen at signup (the row keeps an unusable
hash; the owner sets a password through a reset link) and mails the owner;
the core has ended the account's sessions. The account itself, and the proof just
made, stay: the person who proved the address is signed in to it.
"""

from __future__ import annotations

import logging

from pyramid.config import PHASE3_CONFIG
from pyramid.exceptions import ConfigurationError

from app.auth import AccountLinked, UnverifiedAccountClaimed, auth_settings
from app.mail import mail_settings
from app.registration.interfaces import (
    ICredentialStore,
    IPasswordHasher,
    IPasswordPolicy,
    IRateLimiter,
    IRegistration,
)
from app.registration.settings import RegistrationSettings, parse_settings

__all__ = [
    "ICredentialStore",
    "IPasswordHasher",
    "IPasswordPolicy",
    "IRateLimiter",
    "IRegistration",
    "RegistrationSettings",
    "includeme",
    "registration_settings",
]

log = logging.getLogger(__name__)

SETTINGS_KEY = "app.registration.settings"


def registration_settings(registry_or_request) -> RegistrationSettings:
    """The parsed settings of an app (pass a registry or a request)."""
    registry = getattr(registry_or_request, "registry", registry_or_request)
    return registry[SETTINGS_KEY]


def _require_public_url(config) -> None:
    if not auth_settings(config.registry).url:
        raise ConfigurationError(
            "setting auth.url (AUTH_URL): is required outside development: "
            "app.registration mails verification and reset links, which are "
            "built on it, never on the request's Host header"
        )


def includeme(config) -> None:
    from app.registration.account import (
        mail_account_linked,
        require_recent_signin_to_link,
    )
    from app.registration.credentials import credentials_provider
    from app.registration.hooks import (
        RESEND_TASK,
        RESET_TASK,
        compose_resend,
        compose_reset,
        throttle_magic_links,
        unverified_account_claimed,
    )
    from app.registration.passwords import (
        PasswordHasher,
        PasswordPolicy,
    )
    from app.registration.ratelimit import RateLimiter
    from app.registration.resources import (
        ACCOUNT_PATH,
        DEVMAIL_PATH,
        SIGNUP_PATH,
        AccountResource,
        DevMailbox,
        SignupResource,
    )
    from app.registration.services import registration_factory
    from app.registration.store import CredentialStore
    from app.registration.views.common import form_body_view

    settings = parse_settings(config.get_settings())
    config.registry[SETTINGS_KEY] = settings

    try:
        add_auth_provider = config.add_auth_provider
    except AttributeError:
        raise ConfigurationError(
            'app.registration extends the auth core: config.include("app.auth") first'
        ) from None
    if settings.environment != "development":
        # After the core's own check (which names an email provider, if any).
        config.action(
            None, _require_public_url, args=(config,), order=PHASE3_CONFIG + 20
        )
    config.include("app.mail")
    config.include("pyramid_jinja2")
    config.include("pyramid_services")
    config.include("app.resources")

    # Singletons of the app; the policy reads the common-password list once.
    config.register_service(
        PasswordPolicy(
            min_length=settings.password_min_length,
            max_length=settings.password_max_length,
            site_name=settings.site_name,
        ),
        IPasswordPolicy,
    )
    hasher = PasswordHasher(settings.argon2)
    limiter = RateLimiter(settings.ratelimit)
    config.register_service(hasher, IPasswordHasher)
    config.register_service(limiter, IRateLimiter)
    config.register_service_factory(registration_factory, IRegistration)
    config.register_service_factory(
        lambda context, request: CredentialStore(request.dbsession), ICredentialStore
    )

    add_auth_provider(credentials_provider())
    # The codes its authorize raises (app.registration.services), in words.
    config.add_credentials_error(
        "rate_limited", "Too many attempts. Wait a little, then try again."
    )
    config.add_credentials_error(
        "email_unverified",
        "Confirm your email address first: follow the link we sent you.",
    )
    config.add_auth_callback("signin", throttle_magic_links)
    config.add_subscriber(unverified_account_claimed, UnverifiedAccountClaimed)
    # the account page (app.registration.account): linking needs a recent
    # sign-in, and a new link is mailed to the owner
    config.add_auth_callback("signin", require_recent_signin_to_link)
    config.add_subscriber(mail_account_linked, AccountLinked)
    config.add_mail_task(RESET_TASK, compose_reset)
    config.add_mail_task(RESEND_TASK, compose_resend)
    config.add_view_deriver(form_body_view, under="secured_view", over="csrf_view")

    config.add_resource_child(SIGNUP_PATH, SignupResource)
    config.add_resource_child(ACCOUNT_PATH, AccountResource)
    config.scan("app.registration.views", ignore="app.registration.views.devmail")
    if (
        settings.environment == "development"
        and mail_settings(config.registry).dev_maildir
    ):
        config.add_resource_child(DEVMAIL_PATH, DevMailbox)
        config.scan("app.registration.views.devmail")
    log.info(
        "registration: verification=%s argon2id m=%s t=%s p=%s ratelimit=%s",
        settings.email_verification,
        settings.argon2.memory_cost,
        settings.argon2.time_cost,
        settings.argon2.parallelism,
        settings.ratelimit.storage_url.split("://", 1)[0]
        if settings.ratelimit.enabled
        else "off",
    )

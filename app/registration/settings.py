"""Registration's settings: ``registration.*`` and ``ratelimit.*``, read once.

:func:`parse_settings` turns the ini keys (environment overrides through
:class:`app.settings.SettingsReader`) into a frozen
:class:`RegistrationSettings`; a bad value stops start-up with a
:class:`~pyramid.exceptions.ConfigurationError` naming the key. Nothing reads
raw ``settings["registration..."]`` strings after that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from limits import RateLimitItem, parse_many

from app.settings import SettingsReader

MODES = ("optional", "mandatory")

# OWASP Password Storage Cheat Sheet, Argon2id: these (memory KiB, iterations)
# pairs "provide an equal level of defense"; for a given t, less memory than
# listed is below the minimum. t >= 5 needs at least the last row's memory.
OWASP_ARGON2_MINIMUM = {1: 47104, 2: 19456, 3: 12288, 4: 9216, 5: 7168}

DEFAULT_LIMITS = {
    "signin_account": "5/minute;20/hour",
    "signin_ip": "20/minute;200/hour",
    "signup_ip": "5/minute;30/hour",
    "reset_ip": "5/minute;30/hour",
    # magic-link requests per client address
    "magic_link_ip": "5/minute;30/hour",
    # mails one address can be sent through signup, magic-link, reset and
    # verification-resend requests together (no mail bombing of a person);
    # email changes to an address count apart, with the same limits, so what
    # a stranger sends never holds back a signed-in change
    "mail_account": "3/minute;10/hour",
    # account-page changes that send mail (password, email), per account:
    # only the signed-in owner adds to it
    "account_mail": "5/minute;20/hour",
}
ACTIONS = tuple(DEFAULT_LIMITS)


@dataclass(frozen=True)
class Argon2Parameters:
    memory_cost: int = 19456  # KiB (19 MiB)
    time_cost: int = 2
    parallelism: int = 1


@dataclass(frozen=True)
class RateLimitSettings:
    enabled: bool
    storage_url: str
    key_prefix: str
    limits: Mapping[str, tuple[RateLimitItem, ...]]
    #: the limits as written in the settings, for messages and docs
    texts: Mapping[str, str]


@dataclass(frozen=True)
class RegistrationSettings:
    email_verification: str
    site_name: str
    password_min_length: int
    password_max_length: int
    argon2: Argon2Parameters
    reset_max_age: int
    verify_max_age: int
    #: seconds after a sign-in during which a person without a password may
    #: change their account (set a password, change email, delete, link)
    reauth_max_age: int
    mail_sender: str
    environment: str
    ratelimit: RateLimitSettings

    @property
    def mandatory_verification(self) -> bool:
        return self.email_verification == "mandatory"


def _argon2(reader: SettingsReader) -> Argon2Parameters:
    defaults = Argon2Parameters()
    time_cost = reader.integer(
        "registration.argon2.time_cost", defaults.time_cost, minimum=1, maximum=100
    )
    memory_cost = reader.integer(
        "registration.argon2.memory_cost", defaults.memory_cost, maximum=4 * 1024 * 1024
    )
    parallelism = reader.integer(
        "registration.argon2.parallelism", defaults.parallelism, minimum=1, maximum=64
    )
    needed = OWASP_ARGON2_MINIMUM[min(time_cost, 5)]
    if memory_cost < needed:
        raise reader.error(
            "registration.argon2.memory_cost",
            f"{memory_cost} KiB with time_cost={time_cost} is below OWASP's minimum "
            f"for argon2id ({needed} KiB at t={min(time_cost, 5)}; "
            "e.g. m=19456 t=2 p=1)",
        )
    return Argon2Parameters(memory_cost, time_cost, parallelism)


def _ratelimit(reader: SettingsReader) -> RateLimitSettings:
    limits: dict[str, tuple[RateLimitItem, ...]] = {}
    texts: dict[str, str] = {}
    for action, default in DEFAULT_LIMITS.items():
        key = f"ratelimit.{action}"
        text = reader.text(key, default)
        assert text is not None
        try:
            items = tuple(parse_many(text))
        except ValueError as exc:
            raise reader.error(
                key, f"expected limits like '5/minute;20/hour', got {text!r} ({exc})"
            ) from None
        if not items:
            raise reader.error(key, "needs at least one limit, e.g. '5/minute'")
        limits[action] = items
        texts[action] = text
    storage_url = reader.text("ratelimit.storage_url", env="REDIS_URL") or "memory://"
    scheme = storage_url.split("://", 1)[0] if "://" in storage_url else ""
    if scheme not in ("memory", "redis", "rediss", "redis+unix"):
        raise reader.error(
            "ratelimit.storage_url (REDIS_URL)",
            f"must be memory:// or a redis:// URL, got scheme {scheme!r}",
        )
    return RateLimitSettings(
        enabled=reader.flag("ratelimit.enabled", True),
        storage_url=storage_url,
        key_prefix=reader.text("ratelimit.key_prefix", "authsite") or "authsite",
        limits=MappingProxyType(limits),
        texts=MappingProxyType(texts),
    )


def parse_settings(
    settings: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> RegistrationSettings:
    """Build and validate :class:`RegistrationSettings` (or ``ConfigurationError``)."""
    reader = SettingsReader(settings, environ)
    if reader.present("registration.session_check_ttl"):
        raise reader.error(
            "registration.session_check_ttl",
            "was replaced by auth.session.check_interval (the core's session "
            "registry); rename it",
        )
    min_length = reader.integer("registration.password_min_length", 8, minimum=8)
    # NIST SP 800-63B: verifiers SHOULD accept at least 64 characters.
    max_length = reader.integer(
        "registration.password_max_length", 128, minimum=64, maximum=4096
    )
    if max_length < min_length:
        raise reader.error(
            "registration.password_max_length",
            f"must not be below registration.password_min_length ({min_length})",
        )
    return RegistrationSettings(
        email_verification=reader.choice(
            "registration.email_verification", MODES, "optional"
        ),
        site_name=reader.text("registration.site_name", "") or "",
        password_min_length=min_length,
        password_max_length=max_length,
        argon2=_argon2(reader),
        reset_max_age=reader.integer("registration.reset_max_age", 3600, minimum=60),
        verify_max_age=reader.integer("registration.verify_max_age", 86400, minimum=60),
        reauth_max_age=reader.integer(
            "registration.reauth_max_age", 600, minimum=0, maximum=86400
        ),
        mail_sender=reader.text("mail.default_sender") or "no-reply@localhost",
        environment=reader.environment(),
        ratelimit=_ratelimit(reader),
    )

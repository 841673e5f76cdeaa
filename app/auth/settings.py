"""The core's settings: read once at include time into a frozen :class:`AuthSettings`.

Keys and environment names follow Auth.js where it has one (``AUTH_SECRET``,
``AUTH_URL``, ``AUTH_TRUST_HOST``, ``AUTH_<ID>_ID`` ...). A bad value stops
start-up with a :class:`~pyramid.exceptions.ConfigurationError` naming the key.
"""

from __future__ import annotations

import logging
import os
import re
import secrets as _secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from urllib.parse import urlsplit

from app.settings import SettingsReader

log = logging.getLogger(__name__)

DEFAULT_BASE_PATH = "/api/auth"
MIN_SECRET_LENGTH = 32
DEV_SECRET_MARKER = "dev-only"  # noqa: S105 - a marker we refuse, not a secret
DEFAULT_DEV_HOSTS = ("localhost", "127.0.0.1", "::1")
DEFAULT_ABSOLUTE_MAX_AGE = 30 * 24 * 3600

# Provider ids whose type can be guessed from the id alone.
TYPE_BY_ID = {
    "credentials": "credentials",
    "email": "email",
    "google": "google",
    "github": "github",
}
PAGE_KEYS = ("signin", "signout", "error", "verify_request", "new_user")
# RFC 3986 path characters that need no percent-encoding (no ?, #, %, space):
# the base path is matched by traversal and written into every URL as is.
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@-]+")
# Provider ids appear in URLs, cookie payloads and AUTH_<ID>_* names: ASCII only.
_PROVIDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class ProviderSettings:
    """A provider enabled by settings: ``auth.provider.<id>.*`` plus env overrides."""

    id: str
    type: str
    options: Mapping[str, str]


@dataclass(frozen=True)
class AuthSettings:
    secrets: tuple[str, ...]
    url: str | None
    base_path: str
    trust_host: bool
    environment: str
    session_strategy: str
    session_max_age: int
    session_update_age: int
    session_absolute_max_age: int
    dev_hosts: frozenset[str]
    secure_cookies: bool | None
    pages: Mapping[str, str]
    providers: tuple[ProviderSettings, ...]
    http_timeout: float
    max_body_bytes: int
    brand_name: str
    brand_color: str
    #: seconds a process trusts a JWT session's registry record before looking
    #: again (``auth.session.check_interval``); 0: never looks (stateless)
    session_check_interval: float = 10.0

    @cached_property
    def csrf_secret(self) -> str:
        """The secret as Auth.js stringifies it for hashes: the list comma-joined."""
        return ",".join(self.secrets)

    @property
    def development(self) -> bool:
        return self.environment == "development"


def _secrets_from(
    reader: SettingsReader, environ: Mapping[str, str]
) -> tuple[str, ...]:
    # Auth.js rotation variables: AUTH_SECRET_3 .. AUTH_SECRET_1 come before
    # AUTH_SECRET, so the highest-numbered one present encrypts.
    numbered = [
        environ[f"AUTH_SECRET_{n}"]
        for n in (3, 2, 1)
        if environ.get(f"AUTH_SECRET_{n}")
    ]
    main = reader.words("auth.secret", env="AUTH_SECRET")
    return tuple(numbered) + main


def _check_secrets(
    reader: SettingsReader, secrets: tuple[str, ...], environment: str
) -> tuple[str, ...]:
    development = environment == "development"
    if not secrets:
        if not development:
            raise reader.error(
                "auth.secret (AUTH_SECRET)",
                "is required; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`",
            )
        log.warning(
            "auth.secret is not set: using a random secret for this process only"
        )
        return (_secrets.token_urlsafe(48),)
    for secret in secrets:
        weak = len(secret) < MIN_SECRET_LENGTH or DEV_SECRET_MARKER in secret
        if weak and not development:
            raise reader.error(
                "auth.secret (AUTH_SECRET)",
                f"each secret must be at least {MIN_SECRET_LENGTH} random characters "
                "and not a development placeholder",
            )
        if weak:
            log.warning("auth.secret is weak; acceptable in development only")
    return secrets


def _parse_url(reader: SettingsReader) -> tuple[str | None, str | None]:
    raw = reader.text("auth.url", env="AUTH_URL")
    if raw is None:
        return None, None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise reader.error(
            "auth.url (AUTH_URL)", f"must be an http(s) URL, got {raw!r}"
        )
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}", path or None


def _normalise_base_path(reader: SettingsReader, value: str) -> str:
    path = "/" + value.strip().strip("/")
    if path == "/" or any(
        seg in ("", ".", "..") or not _PATH_SEGMENT.fullmatch(seg)
        for seg in path[1:].split("/")
    ):
        raise reader.error(
            "auth.base_path", f"must be a path like /api/auth, got {value!r}"
        )
    return path


def _provider_settings(
    reader: SettingsReader, environ: Mapping[str, str]
) -> tuple[ProviderSettings, ...]:
    result = []
    seen = set()
    for pid in reader.words("auth.providers"):
        if pid in seen:
            raise reader.error("auth.providers", f"provider {pid!r} is listed twice")
        seen.add(pid)
        if not _PROVIDER_ID.fullmatch(pid):
            raise reader.error("auth.providers", f"invalid provider id {pid!r}")
        options = dict(reader.prefixed(f"auth.provider.{pid}."))
        env_id = pid.upper().replace("-", "_")
        for env_key, option in (
            ("ID", "client_id"),
            ("SECRET", "client_secret"),
            ("ISSUER", "issuer"),
        ):
            value = environ.get(f"AUTH_{env_id}_{env_key}")
            if value:
                options[option] = value
        ptype = options.pop("type", None) or TYPE_BY_ID.get(pid)
        if ptype is None:
            ptype = "oidc" if options.get("issuer") else None
        if ptype is None:
            raise reader.error(
                f"auth.provider.{pid}.type",
                "is required for this provider id (oidc, google, github, email, credentials)",
            )
        result.append(ProviderSettings(pid, ptype, MappingProxyType(options)))
    return tuple(result)


def parse_settings(
    settings: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> AuthSettings:
    """Build and validate :class:`AuthSettings` from ini settings and the environment."""
    environ = os.environ if environ is None else environ
    reader = SettingsReader(settings, environ)
    environment = reader.environment()
    secrets = _check_secrets(reader, _secrets_from(reader, environ), environment)
    url, url_path = _parse_url(reader)
    base_path = _normalise_base_path(
        reader, reader.text("auth.base_path") or url_path or DEFAULT_BASE_PATH
    )
    trust_default = environment != "production" or "AUTH_TRUST_HOST" in environ
    trust_host = reader.flag("auth.trust_host", trust_default, env="AUTH_TRUST_HOST")
    if url is None and not trust_host:
        raise reader.error(
            "auth.url (AUTH_URL)",
            "is required unless auth.trust_host (AUTH_TRUST_HOST) is true: "
            "without it the site's origin would come from an untrusted Host header",
        )
    secure = reader.text("auth.secure_cookies")
    pages = {}
    for key in PAGE_KEYS:
        value = reader.text(f"auth.pages.{key}")
        if value is not None:
            if not (value.startswith("/") or value.startswith(("http://", "https://"))):
                raise reader.error(
                    f"auth.pages.{key}", f"must be a path or URL, got {value!r}"
                )
            pages[key] = value
    max_age = reader.integer("auth.session.max_age", 30 * 24 * 3600, minimum=60)
    # Left unset, the absolute limit follows a longer max_age instead of
    # refusing it; set explicitly, it may not be shorter than max_age (a
    # session could then never reach the lifetime max_age promises).
    absolute_max_age = reader.integer(
        "auth.session.absolute_max_age", max(DEFAULT_ABSOLUTE_MAX_AGE, max_age)
    )
    if absolute_max_age < max_age:
        raise reader.error(
            "auth.session.absolute_max_age",
            f"must be at least auth.session.max_age ({max_age}), "
            f"got {absolute_max_age}",
        )
    return AuthSettings(
        secrets=secrets,
        url=url,
        base_path=base_path,
        trust_host=trust_host,
        environment=environment,
        session_strategy=reader.choice(
            "auth.session.strategy", ("jwt", "database"), "jwt"
        ),
        session_max_age=max_age,
        session_update_age=reader.integer(
            "auth.session.update_age", 24 * 3600, minimum=0, maximum=max_age
        ),
        session_absolute_max_age=absolute_max_age,
        dev_hosts=frozenset(
            host.lower().strip("[]")
            for host in reader.words("auth.dev_hosts", DEFAULT_DEV_HOSTS)
        ),
        secure_cookies=None
        if secure in (None, "auto")
        else reader.flag("auth.secure_cookies"),
        pages=MappingProxyType(pages),
        providers=_provider_settings(reader, environ),
        http_timeout=reader.number("auth.http_timeout", 10.0, minimum=0.1),
        max_body_bytes=reader.integer("auth.max_body_bytes", 64 * 1024, minimum=1024),
        brand_name=reader.text("auth.theme.brand_name") or "",
        brand_color=reader.text("auth.theme.brand_color") or "#2563eb",
        session_check_interval=reader.number("auth.session.check_interval", 10.0),
    )

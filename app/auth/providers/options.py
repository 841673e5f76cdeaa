"""Reading one provider's ``auth.provider.<id>.*`` options; errors name the key.

:func:`app.auth.settings.parse_settings` has already gathered the options of
each enabled provider (the ``AUTH_<ID>_ID``/``_SECRET``/``_ISSUER``
environment variables merged in as ``client_id``, ``client_secret`` and
``issuer``). The provider factories read them through
:class:`ProviderOptions`, so a missing or bad value stops start-up with a
:class:`~pyramid.exceptions.ConfigurationError` such as
``setting auth.provider.corp.client_id (or AUTH_CORP_ID): is required``.
"""

from __future__ import annotations

from pyramid.exceptions import ConfigurationError

from app.auth.settings import ProviderSettings
from app.settings import SettingsReader

# Options that may come from the environment (Auth.js's ``AUTH_<ID>_*`` names).
ENV_NAMES = {"client_id": "ID", "client_secret": "SECRET", "issuer": "ISSUER"}


class ProviderOptions:
    """Typed access to one provider's options; every error names the full key."""

    def __init__(self, ps: ProviderSettings) -> None:
        self.id = ps.id
        self.type = ps.type
        self.prefix = f"auth.provider.{ps.id}."
        self.raw = dict(ps.options)
        self._reader = SettingsReader(
            {self.prefix + k: v for k, v in self.raw.items()}, {}
        )

    def key(self, name: str) -> str:
        """``auth.provider.<id>.<name>``, and its environment name if it has one."""
        where = self.prefix + name
        if name in ENV_NAMES:
            env_id = self.id.upper().replace("-", "_")
            where += f" (or AUTH_{env_id}_{ENV_NAMES[name]})"
        return where

    def error(self, name: str, message: str) -> ConfigurationError:
        return ConfigurationError(f"setting {self.key(name)}: {message}")

    def text(
        self, name: str, default: str | None = None, *, required: bool = False
    ) -> str | None:
        value = self._reader.text(self.prefix + name, default)
        if value is None and required:
            raise self.error(name, f"is required for a provider of type {self.type}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        return self._reader.flag(self.prefix + name, default)

    def integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        return self._reader.integer(self.prefix + name, default, minimum=minimum)

    def words(self, name: str) -> tuple[str, ...] | None:
        if self.text(name) is None:
            return None
        return self._reader.words(self.prefix + name)

    def params(self, name: str) -> dict[str, str]:
        """``key=value key=value`` (whitespace-separated) as a dict."""
        result = {}
        for item in self.words(name) or ():
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise self.error(name, f"expected key=value pairs, got {item!r}")
            result[key] = value
        return result

"""Typed reading of ``.ini`` settings with environment overrides.

Every package parses its own keys once, at include time, through a
:class:`SettingsReader`; a bad value raises :class:`pyramid.exceptions.ConfigurationError`
naming the key (and the environment variable, when that is where the value came
from), so a misconfiguration stops start-up instead of becoming a 500 later.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from pyramid.exceptions import ConfigurationError

#: ``app.env``: outside development and testing, secrets and URLs are required.
ENVIRONMENTS = ("development", "testing", "production")

TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
FALSE = frozenset({"0", "false", "no", "off", "n", "f", ""})


class SettingsReader:
    """Reads typed values from a settings mapping, letting the environment win.

    ``env`` names the environment variable that overrides an ini key; it is
    consulted first, so production secrets never need to live in a file.
    """

    def __init__(
        self, settings: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> None:
        self.settings = settings
        self.environ = os.environ if environ is None else environ

    def _raw(self, key: str, env: str | None) -> tuple[Any, str]:
        if env and env in self.environ:
            return self.environ[env], f"{env} (environment)"
        return self.settings.get(key), key

    def error(self, where: str, message: str) -> ConfigurationError:
        return ConfigurationError(f"setting {where}: {message}")

    def present(self, key: str, env: str | None = None) -> bool:
        value, _ = self._raw(key, env)
        return value is not None and str(value).strip() != ""

    def text(
        self,
        key: str,
        default: str | None = None,
        *,
        env: str | None = None,
        required: bool = False,
    ) -> str | None:
        value, where = self._raw(key, env)
        if value is None or str(value).strip() == "":
            if required:
                named = f"{where} (or {env})" if env and where == key else where
                raise self.error(named, "is required")
            return default
        return str(value).strip()

    def flag(self, key: str, default: bool = False, *, env: str | None = None) -> bool:
        value, where = self._raw(key, env)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise self.error(where, f"expected true or false, got {value!r}")

    def integer(
        self,
        key: str,
        default: int,
        *,
        env: str | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value, where = self._raw(key, env)
        if value is None or str(value).strip() == "":
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            raise self.error(where, f"expected a whole number, got {value!r}") from None
        if minimum is not None and number < minimum:
            raise self.error(where, f"must be at least {minimum}, got {number}")
        if maximum is not None and number > maximum:
            raise self.error(where, f"must be at most {maximum}, got {number}")
        return number

    def number(
        self, key: str, default: float, *, env: str | None = None, minimum: float = 0.0
    ) -> float:
        value, where = self._raw(key, env)
        if value is None or str(value).strip() == "":
            return default
        try:
            number = float(str(value).strip())
        except ValueError:
            raise self.error(where, f"expected a number, got {value!r}") from None
        if number < minimum:
            raise self.error(where, f"must be at least {minimum}, got {number}")
        return number

    def choice(
        self,
        key: str,
        choices: Iterable[str],
        default: str,
        *,
        env: str | None = None,
    ) -> str:
        allowed = tuple(choices)
        value = self.text(key, default, env=env)
        assert value is not None
        if value not in allowed:
            _, where = self._raw(key, env)
            raise self.error(
                where, f"must be one of {', '.join(allowed)}, got {value!r}"
            )
        return value

    def environment(self) -> str:
        """``app.env`` (``APP_ENV``): development, testing or production (the default).

        Every package reads it here, so all agree on its values and its default.
        """
        return self.choice("app.env", ENVIRONMENTS, "production", env="APP_ENV")

    def words(
        self, key: str, default: Iterable[str] = (), *, env: str | None = None
    ) -> tuple[str, ...]:
        value, _ = self._raw(key, env)
        if value is None:
            return tuple(default)
        if isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        return tuple(str(value).replace(",", " ").split())

    def prefixed(self, prefix: str) -> dict[str, str]:
        """All ini keys starting with ``prefix``, the prefix removed."""
        return {
            k[len(prefix) :]: v
            for k, v in self.settings.items()
            if k.startswith(prefix)
        }

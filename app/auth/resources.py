"""The core's part of the resource tree, mounted at ``auth.base_path``.

::

    AuthRoot (/api/auth)       views: csrf, providers, session, signout, error, verify-request
    ├── signin                 SignInResource: GET the page; POST without a provider
    │   └── <id>               SignInProvider: POST starts that provider's sign-in
    └── callback               CallbackResource
        └── <id>               CallbackProvider: GET/POST finishes it

Resources know their place (``__name__``/``__parent__``), so
``request.resource_url`` builds every URL. Auth.js URLs have no trailing
slash, so the core names the last segment as a URL element of its parent
(``resource_url(signin, "github")``), see :meth:`AuthFlow.url`.
"""

from __future__ import annotations

from typing import Any

from app.auth.core import get_core
from app.auth.providers.base import Provider


class AuthResource:
    __name__: str
    __parent__: Any

    def __init__(self, parent: Any, name: str, request) -> None:
        self.__parent__ = parent
        self.__name__ = name
        self.request = request

    def __getitem__(self, name: str) -> Any:
        raise KeyError(name)


class AuthRoot(AuthResource):
    """The base path. Its children are the two actions that take a provider id."""

    def __getitem__(self, name: str) -> AuthResource:
        if name == "signin":
            return SignInResource(self, name, self.request)
        if name == "callback":
            return CallbackResource(self, name, self.request)
        raise KeyError(name)


class ProviderResource(AuthResource):
    """A provider id under ``signin`` or ``callback``; ``provider`` is None if unknown."""

    def __init__(
        self, parent: Any, name: str, request, provider: Provider | None
    ) -> None:
        super().__init__(parent, name, request)
        self.provider = provider


class SignInProvider(ProviderResource):
    pass


class CallbackProvider(ProviderResource):
    pass


class _ProviderContainer(AuthResource):
    child: type[ProviderResource]

    def __getitem__(self, name: str) -> ProviderResource:
        provider = get_core(self.request).providers.get(name)
        return self.child(self, name, self.request, provider)


class SignInResource(_ProviderContainer):
    child = SignInProvider


class CallbackResource(_ProviderContainer):
    child = CallbackProvider

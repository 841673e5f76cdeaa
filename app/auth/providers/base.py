"""What every provider is: an id, a display name, a type, and its two steps.

A provider is plain configuration plus two methods the core calls:
:meth:`Provider.begin` for ``POST signin/<id>`` and :meth:`Provider.complete`
for ``callback/<id>``. The core does everything around them (CSRF, callback
URL, the sign-in callback, the session cookie, events, error mapping).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from app.auth.errors import InvalidProvider
from app.auth.interfaces import AdapterAccount, AdapterUser

if TYPE_CHECKING:
    from pyramid.httpexceptions import HTTPFound
    from pyramid.response import Response

    from app.auth.callbacks import Callbacks
    from app.auth.cookies import CookieNames
    from app.auth.interfaces import IAdapter
    from app.auth.jwt import JWTCodec
    from app.auth.settings import AuthSettings


class ProviderContext(Protocol):
    """What a provider needs from the request it serves (the flow gives it).

    Providers depend on this, not on the flow, so they sit below it: the
    request's input (query, body, cookies), the URLs it can build, the
    cookies it queues, and the core's parts a provider uses.
    """

    request: Any
    settings: AuthSettings
    codec: JWTCodec
    callbacks: Callbacks
    adapter: IAdapter
    #: whether cookies are ``Secure`` (https), and their names
    secure: bool
    names: CookieNames
    #: ``Set-Cookie`` header values sent with the response
    set_cookies: list[str]
    query: dict[str, str]
    body: dict[str, Any]
    callback_url: str
    public_origin: str

    def cookie(self, name: str) -> str | None: ...

    def url(
        self,
        *path: str,
        query: dict[str, str] | None = None,
        origin: str | None = None,
    ) -> str: ...

    def page_url(
        self, page: str, default_path: str, query: dict[str, str] | None = None
    ) -> str: ...

    def signin_page_url(self, query: dict[str, str] | None = None) -> str: ...

    def safe_redirect(self, url: str) -> str: ...

    def redirect(self, url: str) -> HTTPFound: ...


@dataclass
class SignInOutcome:
    """What a provider's callback established about the person signing in."""

    user: AdapterUser
    account: AdapterAccount | None = None
    profile: Mapping[str, Any] | None = None
    is_new_user: bool = False
    # A provider may insist on a strategy (Auth.js: credentials are always JWT).
    strategy: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Provider:
    """Base class; subclasses set ``type`` and override the steps they support."""

    type: ClassVar[str] = ""
    #: the sign-in page template fragment for this provider (asset spec)
    template: ClassVar[str] = ""

    def __init__(self, id: str, name: str) -> None:
        if not id or "/" in id:
            raise ValueError(f"invalid provider id {id!r}")
        self.id = id
        self.name = name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}>"

    def begin(self, flow: ProviderContext) -> Response:
        """``POST signin/<id>`` (CSRF already verified). Default: show the page."""
        return flow.redirect(flow.signin_page_url())

    def complete(self, flow: ProviderContext) -> SignInOutcome:
        """``GET``/``POST callback/<id>``: return who signed in, or raise an AuthError."""
        raise InvalidProvider(f"provider {self.id} has no callback")

    #: whether ``callback/<id>`` needs the Auth.js CSRF token (credentials only)
    callback_requires_csrf: ClassVar[bool] = False
    #: the HTTP methods ``callback/<id>`` accepts
    callback_methods: ClassVar[tuple[str, ...]] = ("GET", "POST")

    def page_fields(self) -> dict[str, Any]:
        """Extra template variables for this provider's sign-in form."""
        return {}

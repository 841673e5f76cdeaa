"""One request's view of the core: origin, cookies, CSRF, body and callback URL.

This is Auth.js's ``init`` (``lib/init.ts``) for one request. It is built
lazily (``request.auth_flow``), so a site page that only reads the session
never parses a body or mints a CSRF token.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import idna
from pyramid.decorator import reify
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPBadRequest, HTTPFound, HTTPRequestEntityTooLarge
from pyramid.traversal import find_resource

from app.auth import cookies
from app.auth.core import AuthCore, get_core
from app.auth.csrf import CsrfState, csrf_state
from app.auth.errors import InvalidCallbackUrl, MissingCSRF
from app.auth.interfaces import IAdapter
from app.auth.sessions import ClientInfo, Identity, SessionCookie, SessionResult

log = logging.getLogger(__name__)

_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?"
    r"|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
)


def _valid_host(host: str) -> bool:
    return _HOST.fullmatch(host) is not None


_UNSAFE_URL = re.compile(r"[\x00-\x20\x7f\\]")
MAX_FIELDS = 200


def flat_query(text: str) -> dict[str, str]:
    """A query string as a flat dict, last value winning (as Auth.js)."""
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, errors="replace", max_num_fields=MAX_FIELDS
        )
    except ValueError:
        raise HTTPBadRequest("too many fields") from None
    return dict(pairs)


def valid_http_url(url: str, origin: str) -> bool:
    """True when ``url`` (relative ones resolved against ``origin``) is http(s)."""
    if not isinstance(url, str) or _UNSAFE_URL.search(url):
        return False
    try:
        parts = urlsplit(url)
        if not parts.scheme:
            # Only a relative URL is resolved against the origin: urljoin
            # would also "repair" an absolute one such as "http://" (no host).
            parts = urlsplit(urljoin(origin + "/", url))
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# Printable ASCII: left as it is when a URL is made ASCII (``%`` included, so
# escapes already present are kept).
_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))


def ascii_url(url: str) -> str | None:
    """``url`` in the form a ``Location`` header can carry, or None.

    A header is bytes: non-ASCII text in one cannot be sent (a 500 in the
    server) or arrives garbled. So the userinfo, path, query and fragment are
    percent-encoded as UTF-8 and an internationalised host is IDNA-encoded
    (IDNA 2008 with UTS 46 mapping); a host that has no IDNA form gives None.
    """
    if url.isascii():
        return url
    try:
        parts = urlsplit(url)
        userinfo, at, hostport = parts.netloc.rpartition("@")
        if not hostport.isascii():
            # A non-ASCII host is a name, never an IP literal: one ":" at most.
            host, colon, port = hostport.partition(":")
            hostport = idna.encode(host, uts46=True).decode("ascii") + colon + port
        netloc = quote(userinfo, safe=_PRINTABLE_ASCII) + at + hostport
        return urlunsplit(
            (
                parts.scheme,
                netloc,
                *(
                    quote(part, safe=_PRINTABLE_ASCII)
                    for part in (parts.path, parts.query, parts.fragment)
                ),
            )
        )
    except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
        return None


def _first(value: str | None) -> str:
    """The first entry of a comma-separated forwarding header, trimmed."""
    return value.split(",", 1)[0].strip() if value else ""


def secure_scheme(request, core: AuthCore) -> bool:
    """Whether cookies are ``Secure`` and ``__Secure-``/``__Host-`` prefixed."""
    settings = core.settings
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    if settings.url:
        return settings.url.startswith("https://")
    environ = request.environ
    if settings.trust_host:
        proto = _first(environ.get("HTTP_X_FORWARDED_PROTO"))
        if proto:
            return proto.lower() == "https"
    return environ.get("wsgi.url_scheme") == "https"


def _origin(host: str, forwarded_proto: str, url_scheme: str) -> str | None:
    """``scheme://host[:port]``, default port dropped; None for a bad Host."""
    if not _valid_host(host):
        return None
    scheme = forwarded_proto.lower() or url_scheme
    if scheme not in ("http", "https"):
        scheme = url_scheme
    host = host.lower()
    default_port = ":443" if scheme == "https" else ":80"
    if host.endswith(default_port):
        host = host[: -len(default_port)]
    return f"{scheme}://{host}"


def _idle_transaction_manager(request):
    """pyramid_tm's explicit transaction manager when no transaction is
    active yet (we are above its tween), else None."""
    manager = getattr(request, "tm", None)
    if manager is None or not getattr(manager, "explicit", False):
        return None
    from transaction.interfaces import NoTransaction

    try:
        manager.get()
    except NoTransaction:
        return manager
    return None


class _LazyAdapter:
    """The request's adapter, found when first used."""

    __slots__ = ("_flow",)

    def __init__(self, flow: AuthFlow) -> None:
        self._flow = flow

    def __getattr__(self, name: str):
        return getattr(self._flow.adapter, name)


class AuthFlow:
    """One request's adapter to the core; what providers see of it is
    :class:`~app.auth.providers.base.ProviderContext`."""

    def __init__(self, request, core: AuthCore | None = None) -> None:
        self.request = request
        self.core = core or get_core(request)
        self.settings = self.core.settings
        self.codec = self.core.codec
        self.callbacks = self.core.callbacks
        self.set_cookies: list[str] = []
        # Every use of a flow reads cookies, so these are plain attributes.
        #: the request's cookies, values still percent-encoded
        self.cookies: dict[str, str] = cookies.parse_header(
            request.environ.get("HTTP_COOKIE", "")
        )
        #: whether cookies are ``Secure`` and ``__Secure-``/``__Host-`` prefixed
        self.secure: bool = secure_scheme(request, self.core)
        self.names: cookies.CookieNames = (
            cookies.SECURE_NAMES if self.secure else cookies.PLAIN_NAMES
        )

    # where we are ------------------------------------------------------------
    @reify
    def origin(self) -> str:
        """``scheme://host[:port]`` of the site, from ``auth.url`` or trusted headers."""
        if self.settings.url:
            return self.settings.url
        environ = self.request.environ
        trusted = self.settings.trust_host
        host = (
            (_first(environ.get("HTTP_X_FORWARDED_HOST")) if trusted else "")
            or environ.get("HTTP_HOST")
            or self.request.host  # no Host header: SERVER_NAME and SERVER_PORT
        )
        proto = _first(environ.get("HTTP_X_FORWARDED_PROTO")) if trusted else ""
        origin = _origin(host or "", proto, environ.get("wsgi.url_scheme", "http"))
        if origin is None:
            log.info("bad Host header %r", (host or "")[:100])
            raise HTTPBadRequest("invalid Host header")
        return origin

    @reify
    def public_origin(self) -> str:
        """The origin for links that leave the request (mail): ``auth.url``.

        A mailed link must not follow the request's ``Host`` or
        ``X-Forwarded-Host``: anyone can send those, and the victim would be
        mailed a live token on the sender's host. So outside development the
        origin is ``auth.url`` only (start-up refuses an email provider
        without it). In development, where ``auth.url`` is usually unset, the
        request's origin is used if its host is one of ``auth.dev_hosts``
        and its port is the one the request reached (``SERVER_PORT``: on a
        shared machine another user could listen on a port a forged ``Host``
        names); any other origin is a 400.
        """
        if self.settings.url:
            return self.settings.url
        if not self.settings.development:
            raise ConfigurationError(
                "setting auth.url (AUTH_URL): is required outside development "
                "to build links that are mailed"
            )
        origin = self.origin
        parts = urlsplit(origin)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        served = self.request.environ.get("SERVER_PORT")
        if parts.hostname not in self.settings.dev_hosts or str(port) != served:
            log.info("link refused for origin %r (auth.dev_hosts)", origin[:100])
            raise HTTPBadRequest("host not allowed for links")
        return origin

    @reify
    def auth_root(self):
        return find_resource(self.request.root, self.settings.base_path)

    def url(
        self,
        *path: str,
        query: dict[str, str] | None = None,
        origin: str | None = None,
    ) -> str:
        """Absolute URL under the base path, e.g. ``url("signin", "github")``.

        The last segment is passed as a URL element of its parent resource, so
        the URL has no trailing slash, as Auth.js's URLs don't. ``origin``
        replaces the request's (:attr:`public_origin` for mailed links).
        """
        container = self.auth_root
        for name in path[:-1]:
            container = container[name]
        return self.request.resource_url(
            container,
            *path[-1:],
            app_url=(origin or self.origin) + self.request.script_name,
            query=query or None,
        )

    def page_url(
        self, page: str, default_path: str, query: dict[str, str] | None = None
    ) -> str:
        """A configured custom page (``auth.pages.<page>``) or the built-in one."""
        custom = self.settings.pages.get(page)
        if custom is None:
            return self.url(default_path, query=query)
        base = custom if "://" in custom else self.origin + custom
        if not query:
            return base
        # Auth.js appends with "&" when the configured page has its own query.
        return base + ("&" if "?" in base else "?") + urlencode(query)

    def signin_page_url(self, query: dict[str, str] | None = None) -> str:
        return self.page_url("signin", "signin", query)

    # input -------------------------------------------------------------------
    @reify
    def query(self) -> dict[str, str]:
        text = self.request.environ.get("QUERY_STRING", "")
        return flat_query(text) if text else {}

    @reify
    def body(self) -> dict[str, Any]:
        """The POST body as Auth.js reads it: JSON object or urlencoded form, else empty."""
        request = self.request
        if request.environ.get("REQUEST_METHOD") != "POST":
            return {}
        limit = self.settings.max_body_bytes
        if (request.content_length or 0) > limit:
            raise HTTPRequestEntityTooLarge("request body too large")
        # ``request.body`` makes the body seekable and rewinds it, so the
        # answer does not depend on who read it first (the debug toolbar and
        # other tweens read ``request.POST`` before the view).
        raw = request.body
        if len(raw) > limit:
            raise HTTPRequestEntityTooLarge("request body too large")
        ctype = (request.content_type or "").lower()
        if ctype == "application/json":
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                # RecursionError: "[[[[..." nested deeper than the parser goes.
                log.info("unparsable JSON body ignored")
                return {}
            return data if isinstance(data, dict) else {}
        if ctype == "application/x-www-form-urlencoded":
            return flat_query(raw.decode("utf-8", errors="replace"))
        return {}

    def cookie(self, name: str) -> str | None:
        """A request cookie's value, percent-decoded; None when absent, empty
        or not decodable."""
        try:
            return cookies.read(self.cookies, name)
        except UnicodeDecodeError:
            return None

    # CSRF ------------------------------------------------------------------------
    @reify
    def csrf(self) -> CsrfState:
        is_post = self.request.environ.get("REQUEST_METHOD") == "POST"
        body_token = self.body.get("csrfToken") if is_post else None
        state = csrf_state(
            self.cookie(self.names.csrf_token),
            self.settings.csrf_secret,
            body_token=body_token,
            is_post=is_post,
        )
        if state.cookie_value is not None:
            self.set_cookies.append(
                cookies.serialize(
                    self.names.csrf_token, state.cookie_value, secure=self.secure
                )
            )
        return state

    def verify_csrf(self) -> None:
        if not self.csrf.verified:
            raise MissingCSRF("CSRF token missing or invalid")

    # callback URL ----------------------------------------------------------------
    @reify
    def callback_url(self) -> str:
        """Where to go after the action: body, query, cookie, else the origin (§1.11)."""
        origin = self.origin
        query_value = self.query.get("callbackUrl")
        if query_value is not None and not valid_http_url(query_value, origin):
            raise InvalidCallbackUrl(
                "callbackUrl query parameter is not an http(s) URL"
            )
        cookie_value = self.cookie(self.names.callback_url)
        body_value = self.body.get("callbackUrl")
        if not isinstance(body_value, str) or not body_value:
            body_value = None
        if (
            query_value is None
            and body_value is None
            and cookie_value == origin
            and not self.core.callbacks.redirect
        ):
            return origin  # the common case: nothing asked, nothing to change
        if cookie_value is not None and not valid_http_url(cookie_value, origin):
            log.info("invalid callback-url cookie ignored")
            cookie_value = None
        chosen = body_value or query_value or cookie_value or origin
        url = self.safe_redirect(chosen)
        if url != cookie_value:
            self.set_cookies.append(
                cookies.serialize(self.names.callback_url, url, secure=self.secure)
            )
        return url

    def safe_redirect(self, url: str) -> str:
        """Run the redirect callbacks; anything that is not a clean http(s) URL
        becomes the origin, so no header injection or scheme trick survives.

        Every redirect target of the core passes here, so this is also where
        a non-ASCII URL is made ASCII (:func:`ascii_url`), or refused to the
        origin when it cannot be. That happens before the callbacks, so they
        judge the URL the browser will follow (``https://a\u3002example/``
        is ``https://a.example/`` to a browser), and again after them.
        """
        candidate = ascii_url(url) or self.origin
        result = self.core.callbacks.run_redirect(self.request, candidate, self.origin)
        if not isinstance(result, str) or not valid_http_url(result, self.origin):
            return self.origin
        location = ascii_url(result)
        if location is None:
            log.info("redirect target refused: its host has no IDNA form")
            return self.origin
        return location

    # session -----------------------------------------------------------------------
    @reify
    def adapter(self) -> IAdapter:
        """The request's adapter (users, accounts, sessions, verification tokens)."""
        return self.request.find_service(IAdapter)

    @property
    def session_adapter(self) -> IAdapter:
        """The adapter for the session service: itself when sessions are
        database rows; for JWT sessions a stand-in that looks it up on first
        use, so a JWT read that the registry memo answers never opens a
        database session."""
        if self.settings.session_strategy == "database":
            return self.adapter
        return _LazyAdapter(self)  # type: ignore[return-value]

    @reify
    def client(self) -> ClientInfo:
        """The User-Agent and address for a new session's registry record.

        ``REMOTE_ADDR``, not WebOb's ``client_addr`` (which believes any
        ``X-Forwarded-For``): behind a proxy, have the WSGI server put the
        client there (waitress: ``trusted_proxy``).
        """
        environ = self.request.environ
        return ClientInfo(
            user_agent=environ.get("HTTP_USER_AGENT", ""),
            address=environ.get("REMOTE_ADDR", "") or "",
        )

    @reify
    def session_cookie(self) -> SessionCookie:
        return SessionCookie(self.cookies, self.names.session_token, self.secure)

    @reify
    def session(self) -> SessionResult:
        """This request's session as its cookie says (jwt callbacks, no trigger).

        Reading may look the session up in the registry. Read before the
        request's transaction began (a tween above pyramid_tm reading
        ``request.identity``), the look-up runs in a transaction of its own.
        """
        manager = _idle_transaction_manager(self.request)
        if manager is None:
            return self._read_session()
        with manager:
            return self._read_session()

    def _read_session(self) -> SessionResult:
        return self.core.sessions.read(
            self.request, self.session_adapter, self.session_cookie
        )

    @reify
    def identity(self) -> Identity | None:
        return self.session.identity

    def init(self) -> None:
        """Auth.js ``init``: make sure the CSRF and callback-url cookies are current."""
        self.csrf  # noqa: B018 - computing it queues the cookie when needed
        self.callback_url  # noqa: B018

    # output ----------------------------------------------------------------------
    def redirect(self, url: str) -> HTTPFound:
        return HTTPFound(location=url)

    def finish(self, response):
        """Attach queued cookies; answer ``{"url"}`` to ``X-Auth-Return-Redirect``."""
        if self.set_cookies:
            headerlist = response.headerlist
            for value in self.set_cookies:
                headerlist.append(("Set-Cookie", value))
            self.set_cookies = []
        if (
            response.status_int == 302
            and "X-Auth-Return-Redirect" in self.request.headers
        ):
            location = response.location
            response.status = 200
            response.content_type = "application/json"
            response.charset = None
            response.body = json.dumps(
                {"url": location}, separators=(",", ":")
            ).encode()
        return response

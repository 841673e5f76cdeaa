"""Helpers for the auth core's functional tests.

- :func:`authorize` is a credentials ``authorize`` named in settings
  (``CREDENTIALS``); :func:`authorize_db` does the same with real user rows,
  for the database session strategy.
- The ``include_*`` functions are test add-ons, enabled per app with
  ``make_app(pyramid__includes="tests.functional.support.include_...")``. Each
  first includes ``app.auth`` (``main`` includes it again: Pyramid includes a
  module only once) so the core's directives exist.
- Cookie tools read ``Set-Cookie`` headers exactly as a browser would apply them.

State a test needs to inspect (authorize calls, events) lives in the app's
registry, never in module globals.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit

from sqlalchemy.exc import OperationalError

from app.auth import (
    AccountLinked,
    CredentialField,
    Credentials,
    CredentialsSignin,
    IAdapter,
    SessionUpdated,
    SignedIn,
    SignedOut,
    UnverifiedAccountClaimed,
    UserCreated,
)

PASSWORD = "correct horse battery staple"
ORIGIN = "http://localhost"
BASE = ORIGIN + "/api/auth"
USERS = {
    "alice": {
        "id": "1",
        "name": "Alice Example",
        "email": "alice@example.com",
        "image": "https://example.com/alice.png",
    },
    "bob": {"id": "2", "name": "Bob", "email": "bob@example.com"},
    "revoked": {"id": "revoked", "name": "Revoked Person"},
}
# The site always has registration's "credentials" provider (email + password);
# the tests add their own credentials provider, "password", by settings alone.
PROVIDER = "password"
CREDENTIALS = {
    "auth__providers": PROVIDER,
    f"auth__provider__{PROVIDER}__type": "credentials",
    f"auth__provider__{PROVIDER}__authorize": "tests.functional.support:authorize",
}
DB_CREDENTIALS = {
    **CREDENTIALS,
    f"auth__provider__{PROVIDER}__authorize": "tests.functional.support:authorize_db",
    "auth__session__strategy": "database",
}
NO_CACHE = {
    "Cache-Control": "private, no-cache, no-store",
    "Expires": "0",
    "Pragma": "no-cache",
}
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
BIG_CLAIM_SIZE = 7000  # about 9,600 characters of token: three chunks


class CustomSignin(CredentialsSignin):
    """An application's own refusal with its own code, as Auth.js allows."""

    code = "custom_code"


def authorize(request, credentials: dict[str, str]):
    """Users from :data:`USERS`, all with :data:`PASSWORD`; a few special names."""
    request.registry.setdefault("test.authorize_calls", []).append(dict(credentials))
    username = credentials.get("username", "")
    if username == "throttled":
        raise CredentialsSignin(code="rate_limited", retry_after=30)
    if username == "custom":
        raise CustomSignin()
    if username == "broken":
        raise RuntimeError("authorize crashed")
    if username == "anonymous" and credentials.get("password") == PASSWORD:
        return {"name": "No Id"}  # Auth.js gives such a user a random UUID
    user = USERS.get(username)
    if user is not None and credentials.get("password") == PASSWORD:
        return dict(user)
    return None


def authorize_db(request, credentials: dict[str, str]):
    """Real rows in ``users``: ``<username>@example.com``, created on first sign-in."""
    if credentials.get("password") != PASSWORD or not credentials.get("username"):
        return None
    adapter = request.find_service(IAdapter)
    email = f"{credentials['username']}@example.com"
    user = adapter.get_user_by_email(email)
    if user is None:
        user = adapter.create_user(email=email, name=credentials["username"].title())
    return user


# test add-ons (pyramid.includes) ------------------------------------------------------
def _core(config) -> None:
    config.include("app.auth")


def _record(event) -> None:
    event.request.registry.setdefault("test.events", []).append(event)


def include_events(config) -> None:
    """Record every core event in ``registry["test.events"]``."""
    _core(config)
    for event in (
        SignedIn,
        SignedOut,
        SessionUpdated,
        UserCreated,
        AccountLinked,
        UnverifiedAccountClaimed,
    ):
        config.add_subscriber(_record, event)


def include_deny_signin(config) -> None:
    _core(config)
    config.add_auth_callback("signin", lambda request, **kw: False)


def include_failing_signin(config) -> None:
    def signin(request, **kw):
        raise RuntimeError("signin callback crashed")

    _core(config)
    config.add_auth_callback("signin", signin)


def include_signin_redirect(config) -> None:
    _core(config)
    config.add_auth_callback("signin", lambda request, **kw: "/welcome")


def include_signin_foreign_redirect(config) -> None:
    _core(config)
    config.add_auth_callback("signin", lambda request, **kw: "https://evil.example/")


def include_partner_redirects(config) -> None:
    """A redirect callback that also allows ``https://partner.example``."""

    def redirect(request, *, url, base_url, **kw):
        if url.startswith("https://partner.example/"):
            return url
        return url if url.startswith(base_url) else base_url

    _core(config)
    config.add_auth_callback("redirect", redirect)


def include_jwt_capture(config) -> None:
    """The jwt callback records its arguments and applies ``update`` data."""

    def jwt(request, *, token, **kw):
        request.registry.setdefault("test.jwt_calls", []).append(
            {"token": dict(token), **kw}
        )
        if kw.get("trigger") == "update" and isinstance(kw.get("session"), dict):
            token = {**token, **kw["session"]}
        if token.get("sub") == "revoked" and kw.get("trigger") is None:
            return None  # the application revoked this person: end the session
        return token

    _core(config)
    config.add_auth_callback("jwt", jwt)


def include_big_claim(config) -> None:
    """A jwt callback adding a claim large enough to need three cookie chunks."""

    def jwt(request, *, token, trigger=None, session=None, **kw):
        if trigger in ("signIn", "signUp"):
            # Incompressible-looking text so the token really is long.
            blob = "".join(f"{i:05d}" for i in range(BIG_CLAIM_SIZE // 5))
            return {**token, "blob": blob}
        if trigger == "update" and isinstance(session, dict) and session.get("shrink"):
            return {k: v for k, v in token.items() if k != "blob"}
        return token

    _core(config)
    config.add_auth_callback("jwt", jwt)


def include_session_shape(config) -> None:
    def session(request, *, session, token=None, user=None, **kw):
        subject = token["sub"] if token is not None else user.id
        return {**session, "user": {**session["user"], "id": subject}, "tier": "gold"}

    _core(config)
    config.add_auth_callback("session", session)


def include_email_credentials(config) -> None:
    """A second credentials provider added in code, with typed fields."""
    _core(config)
    config.add_auth_provider(
        Credentials(
            authorize_by_email,
            [
                CredentialField(
                    "email", "Email address", type="email", autocomplete="email"
                ),
                CredentialField(
                    "password",
                    "Password",
                    type="password",
                    autocomplete="current-password",
                ),
            ],
            id="login",
            name="Email and password",
        )
    )


def authorize_by_email(request, credentials: dict[str, str]):
    for user in USERS.values():
        if user.get("email") == credentials.get("email"):
            return dict(user) if credentials.get("password") == PASSWORD else None
    return None


def include_default_credentials(config) -> None:
    """``Credentials(authorize)`` with its default fields, added in code."""
    _core(config)
    config.add_auth_provider(Credentials(authorize, id="plain", name="Plain"))


def include_template_override(config) -> None:
    _core(config)
    config.override_asset(
        to_override="app.auth:templates/signout.jinja2",
        override_with="tests.functional:templates/signout_override.jinja2",
    )


# cookies ------------------------------------------------------------------------------
def set_cookie_headers(response) -> list[str]:
    return response.headers.getall("Set-Cookie")


def set_cookies(response) -> dict[str, str]:
    """``name -> full Set-Cookie header`` (the last header for a name wins)."""
    return {h.split("=", 1)[0]: h for h in set_cookie_headers(response)}


def cookie_value(header: str) -> str:
    """The percent-decoded value of one ``Set-Cookie`` header."""
    return unquote(header.split(";", 1)[0].split("=", 1)[1])


def attributes(header: str) -> list[str]:
    return header.split("; ")[1:]


def is_deletion(header: str) -> bool:
    return "Max-Age=0" in attributes(header) and header.split(";", 1)[0].endswith("=")


def browser_jar(response, jar: Mapping[str, str] | None = None) -> dict[str, str]:
    """Apply a response's ``Set-Cookie`` headers in order to ``jar`` (raw values)."""
    result = dict(jar or {})
    for header in set_cookie_headers(response):
        name, _, value = header.split(";", 1)[0].partition("=")
        if is_deletion(header):
            result.pop(name, None)
        else:
            result[name] = value
    return result


def cookie_header(cookies: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    items = cookies.items() if isinstance(cookies, Mapping) else cookies
    return "; ".join(f"{k}={v}" for k, v in items)


def session_chunks(jar: Mapping[str, str], name: str = "authjs.session-token") -> dict:
    return {k: v for k, v in jar.items() if k == name or k.startswith(name + ".")}


def expires_of(header: str) -> dt.datetime:
    for attr in attributes(header):
        if attr.startswith("Expires="):
            return dt.datetime.strptime(attr[8:], "%a, %d %b %Y %H:%M:%S GMT").replace(
                tzinfo=dt.UTC
            )
    raise AssertionError(f"no Expires in {header!r}")


def parse_iso(text: str) -> dt.datetime:
    assert ISO_MS.fullmatch(text), text
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


# flows --------------------------------------------------------------------------------
def csrf_token(app, **kw) -> str:
    return app.get("/api/auth/csrf", **kw).json["csrfToken"]


def sign_in(
    app,
    username: str = "alice",
    password: str = PASSWORD,
    *,
    provider: str = PROVIDER,
    **fields,
):
    """Sign in through ``POST callback/<provider>`` as the sign-in form does."""
    token = csrf_token(app)
    return app.post(
        f"/api/auth/callback/{provider}",
        {"csrfToken": token, "username": username, "password": password, **fields},
    )


def events(app, kind: type | None = None) -> list:
    recorded = app.app.registry.get("test.events", [])
    return [e for e in recorded if kind is None or isinstance(e, kind)]


def include_auth_time_tamper(config) -> None:
    """A jwt callback that drops ``auth_time`` or tries to move it forward."""

    def jwt(request, *, token, trigger=None, **kw):
        token = {k: v for k, v in token.items() if k != "auth_time"}
        if trigger in ("signIn", "signUp"):
            token["auth_time"] = 4_000_000_000  # far in the future
        return token

    _core(config)
    config.add_auth_callback("jwt", jwt)


def include_permissive_redirects(config) -> None:
    """A redirect callback that lets every URL through, as a careless
    application might: the core must still never send one it cannot encode."""
    _core(config)
    config.add_auth_callback("redirect", lambda request, *, url, base_url, **kw: url)


def database_down(request, credentials: dict[str, str]):
    """An ``authorize`` that writes a row, then loses the database."""
    request.find_service(IAdapter).create_user(email="half-done@example.com")
    raise OperationalError(
        "SELECT 1", {}, Exception("server closed the connection unexpectedly")
    )


def include_unavailable_view(config) -> None:
    """A 503 exception view for an unreachable database, as the site has one."""

    def unavailable(exc, request):
        response = request.response
        response.status = 503
        response.headers["Retry-After"] = "5"
        response.text = "temporarily unavailable"
        return response

    _core(config)
    config.add_exception_view(unavailable, context=OperationalError)


def include_refuse_attacker_redirects(config) -> None:
    """A redirect callback that lets every URL through except to attacker.example."""

    def redirect(request, *, url, base_url, **kw):
        return base_url if urlsplit(url).hostname == "attacker.example" else url

    _core(config)
    config.add_auth_callback("redirect", redirect)

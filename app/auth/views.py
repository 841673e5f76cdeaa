"""The HTTP API under the base path, found by traversal (Auth.js ``lib/index.ts``).

Views stay thin: the ``authjs`` view option (:mod:`app.auth.derivers`) does
init, CSRF and error mapping; the work is in :mod:`app.auth.sessions`,
:mod:`app.auth.login` and the providers.
"""

from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPFound
from pyramid.renderers import render_to_response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import notfound_view_config, view_config, view_defaults

from app.auth.derivers import Action, bad_request, json_response
from app.auth.errors import InvalidProvider, UnknownAction
from app.auth.events import SessionUpdated, SignedOut
from app.auth.login import finish_sign_in
from app.auth.providers.email import InvalidEmail, normalize_email
from app.auth.resources import (
    AuthRoot,
    CallbackProvider,
    CallbackResource,
    SignInProvider,
    SignInResource,
)
from app.auth.sessions import SessionResult

log = logging.getLogger(__name__)

PAGE = Action("page", errors="page")
INIT = Action("init")
BARE = Action("bare", init=False)
POST = Action("post", csrf=True)
SESSION_UPDATE = Action("session-update", csrf=True, errors="session")
CALLBACK = Action("callback")

NO_CACHE = {
    "Cache-Control": "private, no-cache, no-store",
    "Expires": "0",
    "Pragma": "no-cache",
}
NO_CACHE_HEADERS = list(NO_CACHE.items())

ERROR_PAGES = {
    "Configuration": (
        500,
        "Server error",
        [
            "There is a problem with the server configuration.",
            "Check the server logs for more information.",
        ],
    ),
    "AccessDenied": (403, "Access Denied", ["You do not have permission to sign in."]),
    "Verification": (
        403,
        "Unable to sign in",
        [
            "The sign in link is no longer valid.",
            "It may have been used already or it may have expired.",
        ],
    ),
}
SIGNIN_ERRORS = {
    **dict.fromkeys(
        (
            "Signin",
            "OAuthSignin",
            "OAuthCallbackError",
            "OAuthCreateAccount",
            "EmailCreateAccount",
            "Callback",
        ),
        "Try signing in with a different account.",
    ),
    "OAuthAccountNotLinked": "To confirm your identity, sign in with the same account you "
    "used originally.",
    "EmailSignin": "The e-mail could not be sent.",
    "CredentialsSignin": "Sign in failed. Check the details you provided are correct.",
    "SessionRequired": "Please sign in to access this page.",
    "RateLimited": "Too many attempts. Wait a little, then try again.",
}
DEFAULT_SIGNIN_ERROR = "Unable to sign in."


def signin_error_text(
    code: str | None, detail: str | None = None, credentials_errors=None
) -> str | None:
    """The sign-in page's message for ``?error=``; for ``CredentialsSignin``,
    the message added for its ``&code=`` (``config.add_credentials_error``)."""
    if not code:
        return None
    if code == "CredentialsSignin" and detail in (credentials_errors or {}):
        return credentials_errors[detail]
    return SIGNIN_ERRORS.get(code, DEFAULT_SIGNIN_ERROR)


def shown_email(value: str | None) -> str | None:
    """The address the email provider put in the query, or None: the page
    names an address, never other text someone put in a link."""
    try:
        return normalize_email(value)
    except InvalidEmail:
        return None


def _page(request, template: str, values: dict, status: int = 200):
    response = render_to_response(template, values, request=request)
    response.status = status
    response.headers.update(NO_CACHE)
    return response


@view_defaults(context=AuthRoot, require_csrf=False, permission=NO_PERMISSION_REQUIRED)
class AuthViews:
    def __init__(self, context, request) -> None:
        self.context = context
        self.request = request
        self.flow = request.auth_flow

    # JSON endpoints --------------------------------------------------------------
    @view_config(name="csrf", request_method="GET", authjs=INIT)
    def csrf(self):
        return json_response(
            {"csrfToken": self.flow.csrf.token}, headers=NO_CACHE_HEADERS
        )

    @view_config(name="providers", request_method="GET", authjs=BARE)
    def providers(self):
        flow = self.flow
        body = {
            p.id: {
                "id": p.id,
                "name": p.name,
                "type": p.type,
                "signinUrl": flow.url("signin", p.id),
                "callbackUrl": flow.url("callback", p.id),
            }
            for p in flow.core.providers.values()
        }
        return json_response(body)

    @view_config(name="session", request_method="GET", authjs=INIT)
    def session(self):
        flow = self.flow
        result = flow.core.sessions.renew(
            self.request, flow.session_adapter, flow.session_cookie, flow.session
        )
        return json_response(
            self._session_answer(result, None), headers=NO_CACHE_HEADERS
        )

    @view_config(name="session", request_method="POST", authjs=SESSION_UPDATE)
    def session_update(self):
        flow = self.flow
        result = flow.core.sessions.update(
            self.request,
            flow.session_adapter,
            flow.session_cookie,
            flow.body.get("data"),
        )
        return json_response(self._session_answer(result, "update"))

    def _session_answer(self, result: SessionResult, trigger: str | None):
        """Queue the session cookies, tell listeners, and give the JSON body."""
        self.flow.set_cookies.extend(result.set_cookies)
        registry = self.request.registry
        if result.body is not None and registry.has_listeners:
            registry.notify(
                SessionUpdated(self.request, result.body, result.token, trigger)
            )
        return result.body

    @view_config(name="csrf", request_method="POST", authjs=INIT)
    @view_config(name="providers", request_method="POST", authjs=INIT)
    @view_config(name="error", request_method="POST", authjs=INIT)
    @view_config(name="verify-request", request_method="POST", authjs=INIT)
    def unknown_action(self):
        raise UnknownAction(f"{self.request.method} {self.request.view_name}")

    # sign out --------------------------------------------------------------------
    @view_config(name="signout", request_method="GET", authjs=PAGE)
    def signout_page(self):
        flow = self.flow
        if "signout" in flow.settings.pages:
            return HTTPFound(flow.page_url("signout", "signout"))
        return _page(
            self.request,
            "app.auth:templates/signout.jinja2",
            {
                "flow": flow,
                "action": flow.url("signout"),
                "csrf_token": flow.csrf.token,
                "callback_url": flow.callback_url,
            },
        )

    @view_config(name="signout", request_method="POST", authjs=POST)
    def signout(self):
        flow = self.flow
        ended = flow.core.sessions.end(flow.session_adapter, flow.session_cookie)
        flow.set_cookies.extend(ended.set_cookies)
        self.request.registry.notify(
            SignedOut(self.request, ended.token, ended.session_token)
        )
        log.info("signed out sub=%s", (ended.token or {}).get("sub"))
        return flow.redirect(flow.callback_url)

    # pages -------------------------------------------------------------------------
    @view_config(name="error", request_method="GET", authjs=PAGE)
    def error_page(self):
        flow = self.flow
        code = flow.query.get("error") or ""
        if "error" in flow.settings.pages:
            return HTTPFound(flow.page_url("error", "error", {"error": code}))
        status, heading, lines = ERROR_PAGES.get(code, (200, "Error", []))
        return _page(
            self.request,
            "app.auth:templates/error.jinja2",
            {
                "flow": flow,
                "heading": heading,
                "lines": lines,
                "signin_url": flow.signin_page_url()
                if code in ("AccessDenied", "Verification")
                else None,
                "home_url": flow.origin,
            },
            status,
        )

    @view_config(name="verify-request", request_method="GET", authjs=PAGE)
    def verify_request(self):
        flow = self.flow
        if "verify_request" in flow.settings.pages:
            return HTTPFound(
                flow.page_url("verify_request", "verify-request", flow.query)
            )
        return _page(
            self.request,
            "app.auth:templates/verify_request.jinja2",
            {
                "flow": flow,
                "home_url": flow.origin,
                "email": shown_email(flow.query.get("email")),
            },
        )


@view_config(
    context=SignInResource,
    request_method="GET",
    authjs=PAGE,
    require_csrf=False,
    permission=NO_PERMISSION_REQUIRED,
)
def signin_page(context, request):
    flow = request.auth_flow
    error = flow.query.get("error")
    if "signin" in flow.settings.pages:
        query = {"callbackUrl": flow.callback_url}
        if error:
            query["error"] = error
        return HTTPFound(flow.signin_page_url(query))
    providers = [
        {
            "provider": p,
            "action": flow.url(
                "callback" if p.type == "credentials" else "signin", p.id
            ),
            **p.page_fields(),
        }
        for p in flow.core.providers.values()
    ]
    return _page(
        request,
        "app.auth:templates/signin.jinja2",
        {
            "flow": flow,
            "providers": providers,
            "csrf_token": flow.csrf.token,
            "callback_url": flow.callback_url,
            "error": signin_error_text(
                error, flow.query.get("code"), flow.core.credentials_errors
            ),
            "error_code": error,
            "email": flow.query.get("email", ""),
        },
    )


@view_config(
    context=SignInResource,
    request_method="POST",
    authjs=POST,
    require_csrf=False,
    permission=NO_PERMISSION_REQUIRED,
)
@view_config(
    context=SignInProvider,
    request_method="POST",
    authjs=POST,
    require_csrf=False,
    permission=NO_PERMISSION_REQUIRED,
)
def signin(context, request):
    flow = request.auth_flow
    if isinstance(context, SignInResource):
        # No provider id: nothing to start; show the page.
        return flow.redirect(flow.signin_page_url())
    if context.provider is None:
        # Auth.js 0.41.3 (observed): error?error=Configuration.
        raise InvalidProvider(f"signin with unknown provider {context.__name__!r}")
    return context.provider.begin(flow)


@view_config(
    context=SignInProvider,
    request_method="GET",
    authjs=INIT,
    require_csrf=False,
    permission=NO_PERMISSION_REQUIRED,
)
def signin_get(context, request):
    raise UnknownAction("GET signin/<provider>")


@view_config(
    context=CallbackProvider,
    request_method=("GET", "POST"),
    authjs=CALLBACK,
    require_csrf=False,
    permission=NO_PERMISSION_REQUIRED,
)
def callback(context, request):
    flow = request.auth_flow
    provider = context.provider
    if provider is None:
        raise InvalidProvider(f"unknown provider {context.__name__!r}")
    if request.method not in provider.callback_methods:
        raise InvalidProvider(
            f"{request.method} not supported by provider {provider.id}"
        )
    if provider.callback_requires_csrf:
        flow.verify_csrf()
    outcome = provider.complete(flow)
    return finish_sign_in(flow, provider, outcome)


@view_config(
    context=CallbackResource,
    request_method=("GET", "POST"),
    authjs=CALLBACK,
    require_csrf=False,
    permission=NO_PERMISSION_REQUIRED,
)
def callback_without_provider(context, request):
    raise InvalidProvider("callback without a provider id")


@notfound_view_config(containment=AuthRoot, renderer=None)
def auth_not_found(request):
    """Unknown action, too many segments or an unsupported method: 400 (§0)."""
    log.info("bad auth request %s %s", request.method, request.path_info[:200])
    return bad_request(request)

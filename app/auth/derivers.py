"""The ``authjs`` view option: Auth.js's request handling around every core view.

A core view declares what kind of action it is (``authjs=PAGE`` ...). The
deriver then, in one place for all of them:

- runs Auth.js ``init`` (CSRF and callback-url cookies) when the action does;
- checks the double-submit CSRF token for state-changing POSTs;
- turns any :class:`~app.auth.errors.AuthError` into Auth.js's answer (a
  redirect to the sign-in or error page with ``?error=``, or ``400 null`` for
  ``POST session``), and any other exception into the ``Configuration`` answer
  after logging it, dooming the transaction so nothing half-done is committed;
  except a database that cannot be reached (``app.models.database_unavailable``),
  which is re-raised for the site's 503 "try again" answer;
- attaches queued cookies and honours ``X-Auth-Return-Redirect``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyramid.httpexceptions import HTTPBadRequest, HTTPException, HTTPFound
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid_retry import is_error_retryable, is_last_attempt

from app.auth.errors import AuthError, CredentialsSignin, InvalidCallbackUrl
from app.auth.flow import AuthFlow
from app.auth.jsonutil import compact_json
from app.auth.providers.email import MAX_EMAIL_LENGTH
from app.models import database_unavailable

log = logging.getLogger(__name__)

BAD_REQUEST_BODY = b'"Bad request."'


@dataclass(frozen=True)
class Action:
    name: str
    init: bool = True  # set the CSRF / callback-url cookies
    csrf: bool = False  # require the double-submit token
    errors: str = "redirect"  # "redirect", "session" (400 null) or "page"


def json_response(
    value=None,
    status: int = 200,
    *,
    body: bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    payload = compact_json(value) if body is None else body
    headerlist = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
    ]
    if headers:
        headerlist.extend(headers)
    return Response(body=payload, status=status, headerlist=headerlist)


def bad_request(request) -> Response:
    """Auth.js's answer to an unknown action, path or method: 400 ``"Bad request."``."""
    return json_response(status=400, body=BAD_REQUEST_BODY)


def error_redirect(flow: AuthFlow, exc: AuthError) -> HTTPFound:
    """Auth.js's error mapping (§1.12): client-safe type or ``Configuration``."""
    params = {"error": exc.public_type}
    if isinstance(exc, CredentialsSignin):
        # The typed address comes back, as Auth.js's page reads ``?email=``,
        # so the person retypes only the password (any address gets it: no
        # hint whether an account exists).
        email = flow.body.get("email")
        if isinstance(email, str) and 0 < len(email) <= MAX_EMAIL_LENGTH:
            params["email"] = email
        params["code"] = exc.code
    if exc.kind == "signIn":
        target = flow.signin_page_url(params)
    else:
        target = flow.page_url("error", "error", params)
    response = flow.redirect(target)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def invalid_callback_page(request, flow: AuthFlow | None, action: Action) -> Response:
    """A callbackUrl that is not an http(s) URL. Auth.js answers 500 here; a
    client sent it, so we answer 400 (the page for pages, JSON otherwise)."""
    if action.errors == "page":
        response = render_to_response(
            "app.auth:templates/error.jinja2",
            {
                "heading": "Bad request",
                "lines": ["The callback URL is not valid."],
                "signin_url": None,
                "home_url": None,
                "flow": None,
            },
            request=request,
        )
        response.status = 400
        return response
    return bad_request(request)


def authjs_view(view, info):
    action: Action | None = info.options.get("authjs")
    if action is None:
        return view

    def wrapper(context, request):
        if request.subpath:
            # ``<action>/<x>`` for an action that takes no provider id
            # (csrf/x, session/x ...): Auth.js's path grammar refuses it (§0).
            log.info("bad auth request %s %s", request.method, request.path_info[:200])
            return bad_request(request)
        flow: AuthFlow = request.auth_flow
        try:
            if action.init:
                flow.init()
            if action.csrf:
                flow.verify_csrf()
            response = view(context, request)
        except InvalidCallbackUrl as exc:
            log.info("action=%s refused: %s", action.name, exc)
            request.tm.doom()
            response = invalid_callback_page(request, flow, action)
        except AuthError as exc:
            log.info("action=%s error=%s reason=%s", action.name, exc.type, exc)
            request.tm.doom()
            if action.errors == "session":
                response = json_response(None, 400)
            else:
                response = error_redirect(flow, exc)
        except HTTPException as exc:
            # 400 (bad Host header, too many fields) and 413 (body too large)
            log.info("action=%s http error %s: %s", action.name, exc.status, exc)
            request.tm.doom()
            response = exc
        except Exception as exc:
            if is_error_retryable(request, exc) and not is_last_attempt(request):
                raise
            if database_unavailable(exc):
                # Not the site's configuration: the database is down or
                # unreachable for now. The site-wide 503 view answers
                # ("try again", Retry-After) instead of error=Configuration.
                log.warning("action=%s: database unavailable: %s", action.name, exc)
                request.tm.doom()
                raise
            log.exception("action=%s failed", action.name)
            request.tm.doom()
            if action.errors == "session":
                response = json_response(None, 400)
            else:
                try:
                    response = error_redirect(flow, AuthError(str(exc)))
                except Exception:  # noqa: BLE001 - the origin itself is unusable
                    response = HTTPBadRequest()
        return flow.finish(response)

    return wrapper


authjs_view.options = ("authjs",)

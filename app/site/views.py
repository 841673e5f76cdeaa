"""The site's pages: home, members, and the friendly error pages."""

from __future__ import annotations

import logging

from pyramid.exceptions import URLDecodeError
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPFound
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import (
    exception_view_config,
    forbidden_view_config,
    notfound_view_config,
    view_config,
)
from pyramid_retry import is_error_retryable

from app.auth import auth_settings
from app.resources import Root
from app.site.resources import MembersArea

log = logging.getLogger(__name__)

#: Seconds a client is asked to wait when the database cannot be used.
RETRY_AFTER = 5
UNAVAILABLE = "The site is temporarily unavailable. Please try again in a moment."


@view_config(context=Root, renderer="app.site:templates/home.jinja2", permission="view")
def home(context, request):
    return {"identity": request.identity}


@view_config(
    context=MembersArea,
    renderer="app.site:templates/members.jinja2",
    permission="members",
)
def members(context, request):
    return {"identity": request.identity}


@forbidden_view_config(renderer="app.site:templates/error.jinja2")
def forbidden(exc, request):
    if request.identity is None and request.method in ("GET", "HEAD"):
        # Signed out: off to the sign-in page, and back here afterwards.
        try:
            signin = request.auth_url(
                "signin",
                query={"callbackUrl": request.url, "error": "SessionRequired"},
            )
        except HTTPBadRequest as bad:  # a Host header we cannot build URLs from
            return bad_request(bad, request)
        return HTTPFound(signin)
    request.response.status = 403
    if isinstance(exc, HTTPForbidden) and "CSRF" in str(exc.detail or exc):
        return {
            "title": "Form expired",
            "message": "This form expired or was sent from another page. "
            "Go back, reload the page and try again.",
        }
    return {"title": "Forbidden", "message": "You are not allowed to see this page."}


@notfound_view_config(renderer="app.site:templates/error.jinja2", append_slash=False)
def not_found(request):
    request.response.status = 404
    return {"title": "Page not found", "message": "There is nothing at this address."}


@exception_view_config(URLDecodeError, renderer="app.site:templates/error.jinja2")
@exception_view_config(HTTPBadRequest, renderer="app.site:templates/error.jinja2")
def bad_request(exc, request):
    log.info("bad request %s: %s", _raw_path(request), exc)
    request.response.status = 400
    # "plain": the layout must not use the request's URL, Host or session, the
    # very things that may be broken here (non-UTF-8 path, bad Host header).
    return {
        "title": "Bad request",
        "message": "The request could not be understood.",
        "plain": True,
    }


@exception_view_config(Exception, renderer="app.site:templates/error.jinja2")
def server_error(exc, request):
    log.exception("unhandled error on %s %s", request.method, _raw_path(request))
    request.response.status = 500
    return {
        "title": "Something went wrong",
        "message": "An unexpected error happened on our side. Please try again later.",
        "plain": True,
    }


@exception_view_config(Exception, database_unavailable=True)
def database_unavailable(exc, request):
    """The database is down, unreachable or locked: 503 with ``Retry-After``.

    A page for people; JSON (``{"message": ...}``) under the auth core's API
    and for clients that accept only JSON. Never a traceback: the log gets
    one line. A retryable error (a SQLite writer lock) is answered here only
    after its last attempt, as pyramid_retry re-runs a request even when an
    exception view answered it. Nothing is kept from the failure: the engine
    checks a pooled PostgreSQL connection before use, so the first request
    after the database returns is served.
    """
    retrying = is_error_retryable(request, exc)
    log.log(
        logging.INFO if retrying else logging.WARNING,
        "database unavailable on %s %s: %s%s",
        request.method,
        _raw_path(request),
        type(exc).__name__,
        " (retrying)" if retrying else "",
    )
    if _wants_json(request):
        response = Response(json_body={"message": UNAVAILABLE}, status=503)
    else:
        response = render_to_response(
            "app.site:templates/error.jinja2",
            {"title": "Temporarily unavailable", "message": UNAVAILABLE, "plain": True},
            request=request,
        )
        response.status = 503
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def _wants_json(request) -> bool:
    """Under the auth API, or from a client that prefers JSON to HTML."""
    base = auth_settings(request).base_path
    path = request.environ.get("PATH_INFO", "")
    if path == base or path.startswith(base + "/"):
        return True
    offers = request.accept.acceptable_offers(["text/html", "application/json"])
    return bool(offers) and offers[0][0] == "application/json"


def _raw_path(request) -> str:
    """The path as the server sent it (``request.path_info`` may not decode)."""
    return request.environ.get("PATH_INFO", "")[:200]

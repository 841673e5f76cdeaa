"""The site's pages: home, members, and the friendly error pages."""

from __future__ import annotations

import logging

from pyramid.exceptions import URLDecodeError
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPFound
from pyramid.view import (
    exception_view_config,
    forbidden_view_config,
    notfound_view_config,
    view_config,
)

from app.resources import Root
from app.site.resources import MembersArea

log = logging.getLogger(__name__)


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


def _raw_path(request) -> str:
    """The path as the server sent it (``request.path_info`` may not decode)."""
    return request.environ.get("PATH_INFO", "")[:200]

"""The site around the auth core: home page, members-only page, layout, errors."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from app.models import database_unavailable
from app.site.resources import MembersArea


class DatabaseUnavailablePredicate:
    """``database_unavailable=True``: an exception view for the errors that
    :func:`app.models.database_unavailable` says mean "the database cannot be
    used right now", whatever their class."""

    def __init__(self, value: bool, config) -> None:
        self.value = bool(value)

    def text(self) -> str:
        return f"database_unavailable = {self.value}"

    phash = text

    def __call__(self, context, request) -> bool:
        return database_unavailable(context) == self.value


def header_links(request) -> dict[str, str] | None:
    """The layout's sign-in or sign-out link, or None when the request's Host
    header makes no origin to build them from.

    Error pages draw the layout too, from exception views, where an error
    raised while rendering has nobody left to answer it but a 500; without
    these links the page still says what went wrong. (A normal page that
    needs a link raises, and the 400 page answers.)
    """
    try:
        if request.identity:
            return {"signout": request.auth_url("signout")}
        return {
            "signin": request.auth_url("signin", query={"callbackUrl": request.url})
        }
    except HTTPBadRequest:
        return None


def includeme(config) -> None:
    config.include("pyramid_jinja2")
    config.include("app.resources")
    config.add_view_predicate("database_unavailable", DatabaseUnavailablePredicate)
    config.add_request_method(header_links, reify=True)
    config.add_resource_child("/members", MembersArea)
    config.add_static_view("static", "app:static", cache_max_age=3600)
    config.scan("app.site.views")

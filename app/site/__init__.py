"""The site around the auth core: home page, members-only page, layout, errors."""

from __future__ import annotations

from app.site.resources import MembersArea


def includeme(config) -> None:
    config.include("pyramid_jinja2")
    config.include("app.resources")
    config.add_resource_child("/members", MembersArea)
    config.add_static_view("static", "app:static", cache_max_age=3600)
    config.scan("app.site.views")

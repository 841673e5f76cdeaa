"""``pyramid.security.remember`` / ``forget``: sessions issued by application code.

docs/extending.md promises that an application's own view can sign a user in
with ``remember(request, user_id)`` and out with ``forget(request)``, on both
session strategies. Such a view is a test add-on here (``POST /test-remember``
with ``user_id``; ``POST /test-forget``).
"""

from __future__ import annotations

import pytest
from pyramid.scripting import prepare
from pyramid.security import forget, remember

from app.auth import IAdapter
from tests.functional.registration.helpers import mount_post_view

HERE = "tests.functional.test_auth_remember_forget"


def remember_view(context, request):
    headers = remember(request, request.POST["user_id"])
    request.response.headerlist.extend(headers)
    request.response.text = f"{len(headers)} headers"
    return request.response


def forget_view(context, request):
    request.response.headerlist.extend(forget(request))
    request.response.text = "forgotten"
    return request.response


def include_doors(config) -> None:
    config.include("app.auth")
    mount_post_view(config, "/test-remember", remember_view)
    mount_post_view(config, "/test-forget", forget_view)


@pytest.fixture(params=["jwt", "database"])
def site(request, make_app):
    return make_app(
        pyramid__includes=f"{HERE}.include_doors",
        auth__session__strategy=request.param,
    )


def a_user(site, email="remembered@example.com") -> str:
    registry = site.app.registry
    with prepare(registry=registry) as env:
        request = env["request"]
        with request.tm:
            user = request.find_service(IAdapter).create_user(email=email, name="Rem")
    return str(user.id)


def test_remember_signs_the_user_in_and_forget_signs_out(site):
    user_id = a_user(site)

    site.post("/test-remember", {"user_id": user_id})
    signed_in = site.get("/api/auth/session").json
    site.post("/test-forget")

    assert signed_in["user"]["email"] == "remembered@example.com"
    assert site.get("/api/auth/session").json is None


def test_remember_of_an_unknown_user_sets_nothing(site):
    answer = site.post("/test-remember", {"user_id": "999999"})

    assert answer.text == "0 headers"
    assert site.get("/api/auth/session").json is None

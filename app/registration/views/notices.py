"""A notice on the site's pages for a person whose address is not confirmed yet.

In ``optional`` mode signup signs the person in at once; until they follow
the mailed link, every page of the site layout says where the link went and
offers a new one (and, in development, the development mailbox). The layout
shows ``unconfirmed_email`` when this sets it.
"""

from __future__ import annotations

from pyramid.events import BeforeRender, subscriber

from app.auth import IAdapter


@subscriber(BeforeRender)
def unconfirmed_email(event: BeforeRender) -> None:
    request = event.get("request")
    if (
        request is None
        or request.exception is not None  # error pages stay free of database reads
        or not str(event.get("renderer_name", "")).endswith(".jinja2")
    ):
        return
    identity = request.identity
    if identity is None or not identity.email:
        return
    user = request.find_service(IAdapter).get_user(identity.id)
    # A password account before its link is followed: magic-link and OAuth
    # users come with their address verified.
    if user is not None and user.email and user.email_verified is None:
        event.setdefault("unconfirmed_email", user.email)

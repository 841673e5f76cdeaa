"""The Pyramid security policy backed by the core's sessions.

``request.identity`` is an :class:`~app.auth.sessions.Identity` (or None),
``request.authenticated_userid`` its id, and permissions come from ACLs with
the principals ``system.Everyone``, ``system.Authenticated``, ``user:<id>``
and ``role:<name>`` for each name in the token's ``roles`` claim (set one in a
``jwt`` callback).
"""

from __future__ import annotations

from pyramid.authorization import ACLHelper, Authenticated, Everyone

from app.auth.sessions import Identity


class AuthSecurityPolicy:
    def __init__(self) -> None:
        self.acl = ACLHelper()

    def identity(self, request) -> Identity | None:
        return request.auth_flow.identity

    def authenticated_userid(self, request) -> str | None:
        identity = self.identity(request)
        return identity.id if identity else None

    def principals(self, request) -> list[str]:
        principals = [Everyone]
        identity = self.identity(request)
        if identity is not None:
            principals += [Authenticated, f"user:{identity.id}"]
            roles = identity.claims.get("roles") or ()
            if isinstance(roles, list | tuple):
                principals += [f"role:{r}" for r in roles if isinstance(r, str)]
        return principals

    def permits(self, request, context, permission):
        return self.acl.permits(context, self.principals(request), permission)

    def remember(self, request, userid, **kw) -> list[tuple[str, str]]:
        """Headers that sign ``userid`` in (a session cookie), for application code."""
        flow = request.auth_flow
        user = flow.adapter.get_user(userid)
        if user is None:
            return []
        started = flow.core.sessions.start(
            request, flow.session_adapter, flow.session_cookie, user, client=flow.client
        )
        return [("Set-Cookie", c) for c in started.set_cookies]

    def forget(self, request, **kw) -> list[tuple[str, str]]:
        flow = request.auth_flow
        ended = flow.core.sessions.end(flow.session_adapter, flow.session_cookie)
        return [("Set-Cookie", c) for c in ended.set_cookies]

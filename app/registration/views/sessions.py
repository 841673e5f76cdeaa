"""``/account/sessions``: where the signed-in person is signed in, and ending those sessions.

The list and the ending go through the core's session registry (its public
API: :func:`app.auth.list_sessions`, :func:`~app.auth.end_session`,
:func:`~app.auth.end_user_sessions`), so JWT and database sessions look and
end alike. Signed out, the page sends the browser to sign in and back (the
site's forbidden view); the two POST forms carry Pyramid's CSRF token.

A session id in a form is only ever one of the person's own: the core ends
``(user, id)`` pairs, so an id of someone else's session (or made up) ends
nothing and answers 404.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from app.auth import current_session_id, end_session, end_user_sessions, list_sessions
from app.registration.resources import SessionsResource
from app.registration.views.common import private_page, template

DONE = {
    "one": "That session was signed out.",
    "others": "Every other session was signed out.",
}


@view_defaults(context=SessionsResource, permission="account")
class SessionsViews:
    def __init__(self, context: SessionsResource, request) -> None:
        self.context = context
        self.request = request
        private_page(request)

    @property
    def user_id(self) -> str:
        return self.request.identity.id

    def _back(self, done: str) -> HTTPSeeOther:
        return HTTPSeeOther(
            self.request.resource_url(self.context, query={"done": done})
        )

    @view_config(request_method="GET", renderer=template("sessions"))
    def list(self):
        request = self.request
        current = current_session_id(request)
        sessions = list_sessions(request, self.user_id)
        return {
            "sessions": sessions,
            "current": current,
            "others": [s for s in sessions if s.id != current],
            "done": DONE.get(request.GET.get("done", "")),
            "action": request.resource_url(self.context),
        }

    @view_config(name="end", request_method="POST", renderer=template("sessions_gone"))
    def end_one(self):
        request = self.request
        session_id = request.POST.get("session", "")
        if not end_session(request, self.user_id, session_id):
            # Not one of this person's sessions (another's, made up, or
            # already ended): nothing ended, and nothing said about whose.
            request.response.status = 404
            return {"back_url": request.resource_url(self.context)}
        return self._back("one")

    @view_config(name="end-others", request_method="POST")
    def end_others(self):
        request = self.request
        end_user_sessions(request, self.user_id, keep=current_session_id(request))
        return self._back("others")

"""``/account/reset``: asking for a reset link, and choosing a new password.

The request form always answers "if an account exists, we sent a link",
after the same work either way: it queues a mail task, and the look-up
happens when the queue is delivered (:mod:`app.registration.hooks`). The
``confirm`` page (from the mailed link) takes a new password under the same
rules as signup; setting it ends every session of the person through the
core's session registry (see :meth:`Registration.reset_password`).
"""

from __future__ import annotations

from pyramid.view import view_config, view_defaults

from app.mail import queue_mail_task
from app.registration.errors import TokenError
from app.registration.forms import FormResult, email_form, new_password_form
from app.registration.hooks import RESET_TASK
from app.registration.models import RESET
from app.registration.resources import ResetResource, public_app_url
from app.registration.views.common import (
    policy,
    private_page,
    registration,
    template,
    throttle,
    throttle_mail_to,
)


@view_defaults(context=ResetResource, permission="view")
class ResetViews:
    def __init__(self, context: ResetResource, request) -> None:
        self.context = context
        self.request = request

    def _request_page(self, form: FormResult, status: int = 200) -> dict:
        private_page(self.request)
        self.request.response.status = status
        return {"form": form, "action": self.request.resource_url(self.context)}

    @view_config(request_method="GET", renderer=template("reset_request"))
    def request_form(self):
        return self._request_page(FormResult())

    @view_config(request_method="POST", renderer=template("reset_request"))
    def request_link(self):
        throttle(self.request, "reset_ip")
        form = email_form(self.request.POST)
        if not form.valid:
            return self._request_page(form, 400)
        throttle_mail_to(self.request, form.data["email"])
        # The same page, after the same work, whether or not an account has
        # this address: the look-up happens when the queued task is composed.
        queue_mail_task(
            self.request,
            RESET_TASK,
            public_app_url(self.request),
            email=form.data["email"],
        )
        private_page(self.request)
        self.request.override_renderer = template("link_sent")
        return {"purpose": RESET, "email": form.data["email"]}

    # the mailed link ------------------------------------------------------------------
    def _password_page(
        self, token: str, email: str, form: FormResult, status: int = 200
    ):
        private_page(self.request, token_in_url=True)
        self.request.response.status = status
        settings = policy(self.request)
        return {
            "form": form,
            "token": token,
            "email": email,
            "action": self.request.resource_url(self.context, "confirm"),
            "min_length": settings.min_length,
            "max_length": settings.max_length,
        }

    def _invalid(self, exc: TokenError):
        private_page(self.request, token_in_url=True)
        self.request.response.status = 400
        self.request.override_renderer = template("link_invalid")
        return {
            "reason": exc.reason,
            "retry_url": self.request.resource_url(self.context),
            "purpose": RESET,
        }

    @view_config(
        name="confirm", request_method="GET", renderer=template("reset_password")
    )
    def password_form(self):
        token = self.request.GET.get("token", "")
        try:
            info = registration(self.request).check_token(token, RESET)
        except TokenError as exc:
            return self._invalid(exc)
        return self._password_page(token, info.email, FormResult())

    @view_config(
        name="confirm", request_method="POST", renderer=template("reset_password")
    )
    def set_password(self):
        request = self.request
        token = request.POST.get("token", "")
        service = registration(request)
        try:
            info = service.check_token(token, RESET)
        except TokenError as exc:
            return self._invalid(exc)
        form = new_password_form(request.POST, policy(request), info.email)
        if not form.valid:
            return self._password_page(token, info.email, form, 400)
        try:
            user = service.reset_password(token, form.password)
        except TokenError as exc:  # used by a concurrent request meanwhile
            return self._invalid(exc)
        private_page(request, token_in_url=True)
        request.override_renderer = template("reset_done")
        return {
            "signin_url": request.auth_url("signin", query={"email": user.email or ""}),
        }

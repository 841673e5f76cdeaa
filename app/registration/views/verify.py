"""``/account/verify``: confirming an email address from the mailed link.

GET shows a confirmation button rather than verifying at once, so a mail
scanner that fetches every link cannot use the token; POST (Pyramid CSRF)
uses it. ``resend`` mails a fresh link, answering the same whether or not an
unverified account has that address.
"""

from __future__ import annotations

from pyramid.view import view_config, view_defaults

from app.auth import IAdapter
from app.mail import queue_mail_task
from app.registration.errors import TokenError
from app.registration.forms import FormResult, clean_email, email_form
from app.registration.hooks import RESEND_TASK
from app.registration.models import VERIFY
from app.registration.resources import VerifyResource, public_app_url
from app.registration.views.common import (
    private_page,
    registration,
    template,
    throttle,
    throttle_mail_to,
)


def link_invalid(request, exc: TokenError, resend_url: str) -> dict:
    request.response.status = 400
    reason = exc.reason
    if reason == "invalid" and _confirmed(request):
        # Most likely the link followed a second time: the signed-in person
        # needs no new one.
        reason = "already_confirmed"
    return {"reason": reason, "retry_url": resend_url, "purpose": VERIFY}


def _confirmed(request) -> bool:
    """Whether the signed-in person's address is confirmed already."""
    identity = request.identity
    if identity is None:
        return False
    user = request.find_service(IAdapter).get_user(identity.id)
    return user is not None and user.email_verified is not None


@view_defaults(context=VerifyResource, permission="view")
class VerifyViews:
    def __init__(self, context: VerifyResource, request) -> None:
        self.context = context
        self.request = request
        private_page(request, token_in_url=True)

    @property
    def resend_url(self) -> str:
        return self.request.resource_url(self.context, "resend")

    @view_config(request_method="GET", renderer=template("verify_confirm"))
    def confirm_page(self):
        token = self.request.GET.get("token", "")
        try:
            info = registration(self.request).check_token(token, VERIFY)
        except TokenError as exc:
            self.request.override_renderer = template("link_invalid")
            return link_invalid(self.request, exc, self.resend_url)
        return {
            "token": token,
            "email": info.email,
            "action": self.request.resource_url(self.context),
        }

    @view_config(request_method="POST", renderer=template("verify_done"))
    def confirm(self):
        try:
            user = registration(self.request).confirm_email(
                self.request.POST.get("token", "")
            )
        except TokenError as exc:
            self.request.override_renderer = template("link_invalid")
            return link_invalid(self.request, exc, self.resend_url)
        return {"email": user.email, "signin_url": self.request.auth_url("signin")}

    @view_config(
        name="resend", request_method="GET", renderer=template("verify_resend")
    )
    def resend_form(self):
        # ``?email=`` (the signed-in person's notice links here) fills the field.
        try:
            typed = self.request.GET.get("email", "")
        except UnicodeDecodeError:
            typed = ""
        email, error = clean_email(typed)
        form = FormResult(data={} if error else {"email": email})
        return {"form": form, "action": self.resend_url}

    @view_config(
        name="resend", request_method="POST", renderer=template("verify_resend")
    )
    def resend(self):
        throttle(self.request, "reset_ip")
        form = email_form(self.request.POST)
        if not form.valid:
            self.request.response.status = 400
            return {"form": form, "action": self.resend_url}
        throttle_mail_to(self.request, form.data["email"])
        # Answered before the address is looked at (see the reset form).
        queue_mail_task(
            self.request,
            RESEND_TASK,
            public_app_url(self.request),
            email=form.data["email"],
        )
        self.request.override_renderer = template("link_sent")
        return {"purpose": VERIFY, "email": form.data["email"]}

"""``/signup``: the signup form, and the "check your email" page.

``optional`` mode: the account is created, a verification link mailed, and
the person signed in through the core's credentials provider
(:func:`app.auth.sign_in`, the sign-in form's own code path), landing on the
``callbackUrl`` (same origin only, the core's redirect rule) or home. A taken
email is refused on the form.

``mandatory`` mode: every valid submission, fresh or taken email, ends on
the same "check your email" page; see :meth:`Registration.signup`.
"""

from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from app.auth import AuthError, UserCreated, sign_in
from app.registration.credentials import PROVIDER_ID
from app.registration.forms import FormResult, clean_email, signup_form
from app.registration.resources import SignupResource
from app.registration.views.common import (
    callback_url,
    policy,
    private_page,
    registration,
    template,
    throttle,
    throttle_mail_to,
)

log = logging.getLogger(__name__)

TAKEN = "An account with this email address already exists."


@view_defaults(context=SignupResource, permission="view")
class SignupViews:
    def __init__(self, context: SignupResource, request) -> None:
        self.context = context
        self.request = request

    def _page(self, form: FormResult, status: int = 200, taken: bool = False) -> dict:
        private_page(self.request)
        self.request.response.status = status
        settings = policy(self.request)
        return {
            "form": form,
            "taken": taken,
            "callback_url": callback_url(self.request),
            "action": self.request.resource_url(self.context),
            "min_length": settings.min_length,
            "max_length": settings.max_length,
            "signin_url": self.request.auth_url("signin"),
        }

    @view_config(request_method="GET", renderer=template("signup"))
    def form(self) -> dict:
        return self._page(FormResult())

    @view_config(request_method="POST", renderer=template("signup"))
    def submit(self):
        request = self.request
        throttle(request, "signup_ip")
        form = signup_form(request.POST, policy(request))
        if not form.valid:
            return self._page(form, 400)
        email = form.data["email"]
        throttle_mail_to(request, email)  # a verification mail or an owner notice
        outcome = registration(request).signup(email, form.data["name"], form.password)
        if outcome.status == "taken":
            form.errors["email"] = TAKEN
            return self._page(form, 400, taken=True)
        if outcome.user is not None:
            request.registry.notify(UserCreated(request, outcome.user))
        if outcome.status == "check_email":
            # The address just typed, so the page can name it: the same page
            # for a fresh and a taken address, so it tells nothing more.
            return HTTPSeeOther(
                request.resource_url(
                    self.context, "check-email", query={"email": email}
                )
            )
        try:
            return sign_in(
                request,
                PROVIDER_ID,
                {"email": email, "password": form.password},
                callback_url(request) or None,
            )
        except AuthError as exc:
            # The account exists; only the sign-in was refused (e.g. throttled).
            log.info(
                "signup user=%s created, sign-in refused: %s", outcome.user.id, exc.type
            )
            query = {"error": exc.public_type}
            if getattr(exc, "code", None):
                query["code"] = exc.code
            return HTTPSeeOther(request.auth_url("signin", query=query))

    @view_config(
        name="check-email", request_method="GET", renderer=template("check_email")
    )
    def check_email(self) -> dict:
        private_page(self.request)
        try:
            typed = self.request.GET.get("email", "")
        except UnicodeDecodeError:  # a query that is not UTF-8 names nobody
            typed = ""
        # Only an address is named, never other text someone put in a link.
        email, error = clean_email(typed)
        return {
            "signin_url": self.request.auth_url("signin"),
            "email": None if error else email,
        }

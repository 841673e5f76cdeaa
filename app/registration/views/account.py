"""``/account``: the signed-in person's account page and its sections.

Every page here needs the ``account`` permission (signed in, see
:class:`~app.registration.resources.AccountResource`): signed out, a GET goes
to the sign-in page and back (the site's forbidden view, ``SessionRequired``).
Each change asks for the current password, or, for an account without one
(magic link or OAuth only), a sign-in within ``registration.reauth_max_age``
seconds; a page then offers "sign in again" instead of its form.

- ``password``: change (or set) the password; other sessions end, this one
  stays, a notice is mailed;
- ``email``: mail a link to the new address (``confirm`` uses it), a notice
  to the old one;
- ``methods``: linked OAuth/OIDC accounts; ``unlink`` while another way to
  sign in remains;
- ``delete``: remove the account; this browser is signed out at once
  (``deleted`` says so).
"""

from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from app.auth import IAdapter
from app.registration.account import (
    EmailTaken,
    LastMethod,
    WrongAccount,
    account_service,
    end_other_sessions,
    oauth_providers,
    recently_signed_in,
    reissue_session,
    sign_out_everywhere,
)
from app.registration.errors import TokenError
from app.registration.forms import (
    FormResult,
    clean_email,
    current_password,
    password_change_form,
    same_email,
)
from app.registration.models import EMAIL_CHANGE
from app.registration.ratelimit import client_key
from app.registration.resources import (
    AccountResource,
    DeleteResource,
    EmailResource,
    MethodsResource,
    PasswordResource,
)
from app.registration.views.common import policy, private_page, template

log = logging.getLogger(__name__)

WRONG_CURRENT = "This is not your current password."
NO_CURRENT = "Enter your current password."
TAKEN = "An account with this email address already exists."
SAME = "This is already your email address."
#: the notices ``/account?done=…`` shows after a change (fixed texts only)
DONE = {
    "password": "Your password was changed. Every other device was signed out.",
    "password-set": "Your password was set. Every other device was signed out.",
    "email": "Your email address was changed.",
}
UNLINK_DONE = "The sign-in method was unlinked."


class AccountPage:
    """What every section shares: the person, their password, the re-auth rule."""

    def __init__(self, context, request) -> None:
        self.context = context
        self.request = request
        self.service = account_service(request)
        private_page(request)

    @property
    def user(self):
        # The row, not the session's claims: the address may have changed.
        user = self.request.find_service(IAdapter).get_user(self.request.identity.id)
        if user is None:  # deleted; the session check has not caught up yet
            raise HTTPSeeOther(self.request.application_url + "/")
        return user

    def reauth_url(self, back: str | None = None) -> str:
        return self.request.auth_url(
            "signin", query={"callbackUrl": back or self.request.path_url}
        )

    def common(self, user, has_password: bool) -> dict:
        recent = recently_signed_in(self.request)
        minutes = max(1, self.service.settings.reauth_max_age // 60)
        return {
            "user": user,
            "has_password": has_password,
            "recent": recent,
            "may_change": has_password or recent,
            "reauth_url": self.reauth_url(),
            "reauth_minutes": minutes,
            "account_url": self.request.resource_url(self._account()),
        }

    def _account(self):
        node = self.context
        while not isinstance(node, AccountResource):
            node = node.__parent__
        return node

    def proven(self, user, has_password: bool, form: FormResult) -> bool:
        """Check the current password (or the recent sign-in); errors go on ``form``.

        Raises :class:`TooManyAttempts` (429) past the sign-in limits.
        """
        if not has_password:
            if not recently_signed_in(self.request):
                form.errors["reauth"] = "Sign in again to continue."
                return False
            return True
        typed = current_password(self.request.POST)
        if not typed:
            form.errors["current_password"] = NO_CURRENT
            return False
        if not self.service.check_password(user, typed, client_key(self.request)):
            form.errors["current_password"] = WRONG_CURRENT
            return False
        return True

    def render(self, name: str, values: dict, status: int = 200) -> dict:
        self.request.response.status = status
        self.request.override_renderer = template(name)
        return values

    # A section that is one form (password, email, delete) --------------------------
    #: the section's template
    page = ""

    def page_values(self) -> dict:
        """What the section's template needs beyond the shared values."""
        return {}

    def _page(self, user, has_password: bool, form: FormResult, status: int = 200):
        values = {
            **self.common(user, has_password),
            "form": form,
            "action": self.request.resource_url(self.context),
            **self.page_values(),
        }
        return self.render(self.page, values, status)

    def blank_form(self):
        user = self.user
        return self._page(user, self.service.has_password(user.id), FormResult())


@view_config(
    context=AccountResource,
    request_method="GET",
    permission="account",
    renderer=template("account"),
)
def account_page(context, request):
    page = AccountPage(context, request)
    user = page.user
    done = request.GET.get("done", "")
    return {
        **page.common(user, page.service.has_password(user.id)),
        "done": DONE.get(done) if isinstance(done, str) else None,
        "sections": {
            name: request.resource_url(context, name)
            for name in ("sessions", "password", "email", "methods", "delete")
        },
    }


@view_config(
    context=AccountResource,
    name="deleted",
    request_method="GET",
    permission="view",
    renderer=template("account_deleted"),
)
def deleted_page(context, request):
    # Public (``view``): the browser that deleted its account is signed out.
    private_page(request)
    return {}


# password ------------------------------------------------------------------------------
@view_defaults(
    context=PasswordResource,
    permission="account",
    renderer=template("account_password"),
)
class PasswordViews(AccountPage):
    page = "account_password"

    def page_values(self) -> dict:
        return {"min_length": policy(self.request).min_length}

    @view_config(request_method="GET")
    def form(self):
        return self.blank_form()

    @view_config(request_method="POST")
    def submit(self):
        request = self.request
        user = self.user
        has_password = self.service.has_password(user.id)
        form = password_change_form(request.POST, policy(request), user.email)
        proven = self.proven(user, has_password, form)
        if not proven or not form.valid:
            status = 403 if "reauth" in form.errors else 400
            return self._page(user, has_password, form, status)
        # Counted per account only, never on the address's count that anyone's
        # reset and magic-link requests fill: a stranger cannot hold back a
        # change the owner proved (the current password or a recent sign-in).
        self.service.throttle_account_mail(user)
        self.service.change_password(user, form.password)
        end_other_sessions(request, user.id)
        done = "password" if has_password else "password-set"
        return HTTPSeeOther(request.resource_url(self._account(), query={"done": done}))


# email ---------------------------------------------------------------------------------
@view_defaults(
    context=EmailResource, permission="account", renderer=template("account_email")
)
class EmailViews(AccountPage):
    page = "account_email"

    @view_config(request_method="GET")
    def form(self):
        return self.blank_form()

    @view_config(request_method="POST")
    def submit(self):
        request = self.request
        user = self.user
        has_password = self.service.has_password(user.id)
        form = FormResult()
        typed = request.POST.get("email", "")
        email, error = clean_email(typed if isinstance(typed, str) else "")
        form.data["email"] = email[:254]
        if error:
            form.errors["email"] = error.replace("your email", "the new email")
        elif same_email(email, user.email):
            form.errors["email"] = SAME
        proven = self.proven(user, has_password, form)
        if not proven or not form.valid:
            status = 403 if "reauth" in form.errors else 400
            return self._page(user, has_password, form, status)
        # Counted for a taken address too: a refusal tells nothing more.
        self.service.throttle_email_change(user, email)
        outcome = self.service.request_email_change(user, email)
        if outcome.status == "taken":
            form.errors["email"] = TAKEN
            return self._page(user, has_password, form, 400)
        if outcome.status == "same":
            form.errors["email"] = SAME
            return self._page(user, has_password, form, 400)
        return self.render(
            "account_email_sent",
            {**self.common(user, has_password), "email": email},
        )

    # the mailed link -------------------------------------------------------------------
    def _invalid(self, reason: str, status: int = 400):
        private_page(self.request, token_in_url=True)
        return self.render(
            "link_invalid",
            {
                "reason": reason,
                "retry_url": self.request.resource_url(self.context),
                "purpose": EMAIL_CHANGE,
            },
            status,
        )

    @view_config(name="confirm", request_method="GET")
    def confirm_page(self):
        private_page(self.request, token_in_url=True)
        token = self.request.GET.get("token", "")
        user = self.user
        try:
            info = self.service.check_email_change(token)
        except TokenError as exc:
            return self._invalid(exc.reason)
        if info.user_id != str(user.id):
            log.info("email-change link opened by another account user=%s", user.id)
            return self._invalid("other_account", 403)
        return self.render(
            "account_email_confirm",
            {
                "token": token,
                "email": info.email,
                "action": self.request.resource_url(self.context, "confirm"),
            },
        )

    @view_config(name="confirm", request_method="POST")
    def confirm(self):
        request = self.request
        private_page(request, token_in_url=True)
        user = self.user
        token = request.POST.get("token", "")
        try:
            changed = self.service.confirm_email_change(token, user)
        except WrongAccount:
            log.info("email-change link used by another account user=%s", user.id)
            return self._invalid("other_account", 403)
        except EmailTaken:
            return self._invalid("taken")
        except TokenError as exc:
            return self._invalid(exc.reason)
        # The session's claims name the old address: this browser gets new ones.
        reissue_session(request, changed.id)
        return HTTPSeeOther(
            request.resource_url(self._account(), query={"done": "email"})
        )


# sign-in methods --------------------------------------------------------------------------
@view_defaults(
    context=MethodsResource, permission="account", renderer=template("account_methods")
)
class MethodsViews(AccountPage):
    def _methods_page(
        self, user, notice: str | None = None, error: str | None = None, status=200
    ):
        request = self.request
        service = self.service
        has_password = service.has_password(user.id)
        linked = service.linked_accounts(user.id)
        linked_ids = {a.provider for a in linked}
        back = request.resource_url(self.context)
        link = request.GET.get("link", "")
        if link == "reauth" and error is None:
            error = (
                "The new account was not linked: linking one needs a recent "
                "sign-in. Sign in again, then link it."
            )
        return self.render(
            "account_methods",
            {
                **self.common(user, has_password),
                "linked": [
                    (account, service.methods_left(user, account) >= 1)
                    for account in linked
                ],
                "magic_links": service.magic_links
                and bool(user.email)
                and user.email_verified is not None,
                "available": [
                    (pid, name)
                    for pid, name in oauth_providers(request)
                    if pid not in linked_ids
                ],
                "link_url": request.auth_url("signin", query={"callbackUrl": back}),
                "reauth_url": self.reauth_url(back),
                "unlink_action": request.resource_url(self.context, "unlink"),
                "password_url": request.resource_url(
                    self.context.__parent__, "password"
                ),
                "notice": notice,
                "error": error,
            },
            status,
        )

    @view_config(request_method="GET")
    def list(self):
        done = self.request.GET.get("done", "")
        return self._methods_page(
            self.user, notice=UNLINK_DONE if done == "unlinked" else None
        )

    @view_config(name="unlink", request_method="POST")
    def unlink(self):
        request = self.request
        user = self.user
        provider = request.POST.get("provider", "")
        account_id = request.POST.get("account", "")
        try:
            self.service.unlink(user, provider, account_id)
        except LookupError:
            return self._methods_page(
                user,
                error="That sign-in method is not linked to your account.",
                status=400,
            )
        except LastMethod:
            return self._methods_page(
                user,
                error="This is your only way to sign in, so it cannot be unlinked. "
                "Set a password first.",
                status=400,
            )
        return HTTPSeeOther(
            request.resource_url(self.context, query={"done": "unlinked"})
        )


# deletion -----------------------------------------------------------------------------
@view_defaults(
    context=DeleteResource, permission="account", renderer=template("account_delete")
)
class DeleteViews(AccountPage):
    page = "account_delete"

    @view_config(request_method="GET")
    def form(self):
        return self.blank_form()

    @view_config(request_method="POST")
    def submit(self):
        request = self.request
        user = self.user
        has_password = self.service.has_password(user.id)
        form = FormResult()
        if not self.proven(user, has_password, form):
            status = 403 if "reauth" in form.errors else 400
            return self._page(user, has_password, form, status)
        sign_out_everywhere(request, user.id)  # first: the records go with the row
        self.service.delete(user)
        return HTTPSeeOther(request.resource_url(self._account(), "deleted"))

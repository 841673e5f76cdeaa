"""Registration's part of the resource tree, and the links mailed to people.

::

    /signup              SignupResource     GET form, POST signup; view "check-email"
    /account             AccountResource    GET the account page (signed in)
    ├── verify           VerifyResource     GET ?token=, POST confirm; view "resend"
    ├── reset            ResetResource      GET/POST ask for a link; view "confirm"
    ├── password         PasswordResource   change or set the password (signed in)
    ├── email            EmailResource      change the address; view "confirm"
    ├── methods          MethodsResource    linked sign-in methods; view "unlink"
    ├── delete           DeleteResource     delete the account
    └── sessions         SessionsResource   GET list; POST views "end", "end-others"
    /dev/mail            DevMailbox         ``app.env = development`` with ``mail.dev_maildir``
    └── <file>.eml       DevMessage

Every resource is location-aware, so URLs (including the mailed ones) come
from ``request.resource_url``. Mailed links are built on
:func:`app.auth.public_origin` (``auth.url``/``AUTH_URL``; in development
only an allow-listed request host), never on the request's ``Host`` or
``X-Forwarded-Host``, so a forged header cannot point a mailed token at
another site.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pyramid.authorization import DENY_ALL, Allow, Authenticated
from pyramid.traversal import find_resource
from zope.interface import Interface, implementer

from app.auth import auth_settings, public_origin
from app.mail import mail_settings

SIGNUP_PATH = "/signup"
ACCOUNT_PATH = "/account"
DEVMAIL_PATH = "/dev/mail"


class IRegistrationPage(Interface):
    """Marker: a page owned by the registration package (for scoped error views)."""


@implementer(IRegistrationPage)
class Resource:
    children: dict[str, type[Resource]] = {}

    def __init__(self, parent: Any, name: str, request) -> None:
        self.__parent__ = parent
        self.__name__ = name
        self.request = request

    def __getitem__(self, name: str) -> Resource:
        child = self.children.get(name)
        if child is None:
            raise KeyError(name)
        return child(self, name, self.request)


class SignupResource(Resource):
    """``/signup``."""


class VerifyResource(Resource):
    """``/account/verify``."""


class ResetResource(Resource):
    """``/account/reset``."""


class PasswordResource(Resource):
    """``/account/password``."""


class EmailResource(Resource):
    """``/account/email``."""


class MethodsResource(Resource):
    """``/account/methods``."""


class DeleteResource(Resource):
    """``/account/delete``."""


class SessionsResource(Resource):
    """``/account/sessions``: the signed-in person's sessions (sign-in required)."""

    __acl__ = [(Allow, Authenticated, "account"), DENY_ALL]


class AccountResource(Resource):
    """``/account``: the account page, its sections, and the pages of mailed links.

    Signed-in people hold ``account`` here and below; ``view`` (everybody,
    from the root) stays for the mailed-link pages.
    """

    __acl__ = [(Allow, Authenticated, "account")]
    children = {
        "verify": VerifyResource,
        "reset": ResetResource,
        "password": PasswordResource,
        "email": EmailResource,
        "methods": MethodsResource,
        "delete": DeleteResource,
        "sessions": SessionsResource,
    }


_EML = re.compile(r"[\w.-]{1,100}\.eml")


class DevMessage:
    """One ``.eml`` file written by :class:`app.mail.DevMailer`."""

    def __init__(self, parent: DevMailbox, name: str, path: Path) -> None:
        self.__parent__ = parent
        self.__name__ = name
        self.path = path


class DevMailbox:
    """``/dev/mail``: the development mail directory (``mail.dev_maildir``)."""

    def __init__(self, parent: Any, name: str, request) -> None:
        self.__parent__ = parent
        self.__name__ = name
        self.request = request
        self.directory = Path(mail_settings(request).dev_maildir or ".")

    def __getitem__(self, name: str) -> DevMessage:
        # Only plain file names of .eml files in the directory: no traversal.
        if not _EML.fullmatch(name):
            raise KeyError(name)
        path = self.directory / name
        if not path.is_file():
            raise KeyError(name)
        return DevMessage(self, name, path)

    def messages(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        files = [
            p
            for p in self.directory.iterdir()
            if p.is_file() and _EML.fullmatch(p.name)
        ]
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def public_app_url(request) -> str:
    """The site's public URL (origin and script name), for links in mail."""
    return public_origin(request) + request.script_name


class RequestLinks:
    """Absolute URLs of the pages mail links to, on the site's public URL."""

    def __init__(self, request) -> None:
        self.request = request

    def _url(self, path: str, *elements: str, query=None) -> str:
        request = self.request
        return request.resource_url(
            find_resource(request.root, path),
            *elements,
            query=query,
            app_url=public_app_url(request),
        )

    def verify(self, token: str) -> str:
        return self._url(f"{ACCOUNT_PATH}/verify", query={"token": token})

    def reset(self, token: str) -> str:
        return self._url(f"{ACCOUNT_PATH}/reset", "confirm", query={"token": token})

    def reset_request(self) -> str:
        return self._url(f"{ACCOUNT_PATH}/reset")

    def email_change(self, token: str) -> str:
        return self._url(f"{ACCOUNT_PATH}/email", "confirm", query={"token": token})

    def account(self) -> str:
        return self._url(ACCOUNT_PATH)

    def methods(self, query=None) -> str:
        return self._url(f"{ACCOUNT_PATH}/methods", query=query)

    def signin(self) -> str:
        # an element of the core's root, as the core's own URLs: no trailing slash
        return self._url(auth_settings(self.request).base_path, "signin")

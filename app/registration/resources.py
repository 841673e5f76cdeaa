"""Registration's part of the resource tree, and the links mailed to people.

::

    /signup              SignupResource     GET form, POST signup; view "check-email"
    /account             AccountResource
    ├── verify           VerifyResource     GET ?token=, POST confirm; view "resend"
    └── reset            ResetResource      GET/POST ask for a link; view "confirm"
    /dev/mail            DevMailbox         development only (``mail.dev_maildir``)
    └── <file>.eml       DevMessage

Every resource is location-aware, so URLs (including the mailed ones) come
from ``request.resource_url``. Mailed links use the configured public origin
(``auth.url``/``AUTH_URL``) when there is one, so a forged ``Host`` header
cannot point a reset link at another site.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pyramid.traversal import find_resource
from zope.interface import Interface, implementer

from app.auth import auth_settings

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


class AccountResource(Resource):
    """``/account``: the pages reached from mailed links."""

    children = {"verify": VerifyResource, "reset": ResetResource}


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
        from app.registration import registration_settings

        self.__parent__ = parent
        self.__name__ = name
        self.request = request
        self.directory = Path(registration_settings(request).dev_maildir or ".")

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
    """The site's public URL for links that leave the request (mail)."""
    configured = auth_settings(request).url
    if configured:
        return configured + request.script_name
    return request.application_url


class RequestLinks:
    """Absolute URLs of registration's pages, for mail and templates."""

    def __init__(self, request) -> None:
        self.request = request

    def _url(self, path: tuple[str, ...], *elements: str, query=None) -> str:
        resource = find_resource(self.request.root, path)
        return self.request.resource_url(
            resource, *elements, query=query, app_url=public_app_url(self.request)
        )

    def verify(self, token: str) -> str:
        return self._url(("account", "verify"), query={"token": token})

    def reset(self, token: str) -> str:
        return self._url(("account", "reset"), "confirm", query={"token": token})

    def reset_request(self) -> str:
        return self._url(("account", "reset"))

    def signin(self) -> str:
        return self.request.auth_url("signin")

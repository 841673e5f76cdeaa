"""The credentials provider: the application decides, through ``authorize``.

Like Auth.js's ``Credentials({ credentials, authorize })``: the core renders a
form with the declared fields, checks the CSRF token, hands the submitted
fields to ``authorize(request, credentials)`` and signs in whoever it
returns. ``authorize`` returns a user (an :class:`AdapterUser` or a mapping
with ``id`` and optionally ``name``, ``email``, ``image``) or ``None``; it may
raise :class:`~app.auth.errors.CredentialsSignin` with its own ``code``.
The core never stores or checks passwords itself: that is the application's
job (see ``app.registration``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.auth.errors import CredentialsSignin
from app.auth.interfaces import AdapterAccount, AdapterUser
from app.auth.providers.base import Provider, SignInOutcome

if TYPE_CHECKING:
    from app.auth.providers.base import ProviderContext

Authorize = Callable[[Any, dict[str, str]], "AdapterUser | Mapping[str, Any] | None"]


@dataclass(frozen=True)
class CredentialField:
    """One input of the credentials form."""

    name: str
    label: str | None = None
    type: str = "text"
    autocomplete: str | None = None
    placeholder: str | None = None
    required: bool = True

    @property
    def display_label(self) -> str:
        return self.label or self.name


DEFAULT_FIELDS = (
    CredentialField("username", "Username", autocomplete="username"),
    CredentialField(
        "password", "Password", type="password", autocomplete="current-password"
    ),
)
MAX_FIELD_LENGTH = 4096


def as_user(value: AdapterUser | Mapping[str, Any]) -> AdapterUser:
    """Accept what ``authorize`` returned and make it an :class:`AdapterUser`.

    A mapping without ``id`` gets a random UUID, as Auth.js gives one.
    """
    if isinstance(value, AdapterUser):
        return value
    if isinstance(value, Mapping):
        user_id = value.get("id")
        return AdapterUser(
            id=str(user_id) if user_id not in (None, "") else str(uuid.uuid4()),
            email=value.get("email"),
            name=value.get("name"),
            image=value.get("image"),
        )
    raise TypeError("authorize must return an AdapterUser, a mapping, or None")


class Credentials(Provider):
    type = "credentials"
    template = "app.auth:templates/providers/credentials.jinja2"
    callback_requires_csrf = True
    callback_methods = ("POST",)

    def __init__(
        self,
        authorize: Authorize,
        fields: Iterable[CredentialField | str] = DEFAULT_FIELDS,
        *,
        id: str = "credentials",
        name: str = "Credentials",
    ) -> None:
        super().__init__(id, name)
        if not callable(authorize):
            raise TypeError("authorize must be callable")
        self.authorize = authorize
        self.fields = tuple(
            f if isinstance(f, CredentialField) else CredentialField(f) for f in fields
        )

    def page_fields(self) -> dict[str, Any]:
        return {"fields": self.fields}

    def complete(self, flow: ProviderContext) -> SignInOutcome:
        # Auth.js hands the whole body to authorize (csrfToken and callbackUrl
        # included); we do too, but only string values of sane size.
        return self.check(flow.request, flow.body)

    def check(self, request: Any, fields: Mapping[str, Any]) -> SignInOutcome:
        """Who ``fields`` (a submitted form) sign in, or ``CredentialsSignin``."""
        credentials = {
            k: v
            for k, v in fields.items()
            if isinstance(v, str) and len(v) <= MAX_FIELD_LENGTH
        }
        result = self.authorize(request, credentials)
        if result is None or result is False:
            raise CredentialsSignin()
        user = as_user(result)
        account = AdapterAccount(
            user_id=user.id,
            type="credentials",
            provider=self.id,
            provider_account_id=user.id,
        )
        return SignInOutcome(user=user, account=account)

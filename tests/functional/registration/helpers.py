"""Driving registration's pages and the core's sign-in as a person would."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from urllib.parse import quote

import sqlalchemy as sa
from webtest import TestApp

from app.auth import (
    IAdapter,
    UnverifiedAccountClaimed,
    UserChanges,
    end_user_sessions,
)

SIGNIN = "/api/auth/callback/credentials"
GOOD_PASSWORD = "violet tractor umbrella 42"  # noqa: S105 - test data
OTHER_PASSWORD = "quiet lantern harbour 17"  # noqa: S105

_LINK = re.compile(r"https?://\S+")


def unique_email(prefix: str = "person") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@example.com"


def typed_away(text: str, address: str) -> str:
    """``text`` with ``address`` (as typed, or URL-encoded) replaced: an answer
    may echo the address the person typed, and must be alike apart from it."""
    return text.replace(quote(address), "<typed>").replace(address, "<typed>")


def signup_form(app: TestApp, query: dict | None = None):
    page = app.get("/signup", params=query or {})
    return page.forms[0]


def signup(
    app: TestApp,
    email: str,
    password: str = GOOD_PASSWORD,
    *,
    name: str = "",
    confirm: str | None = None,
    query: dict | None = None,
    status: int | str | None = None,
):
    """Fill in and submit the signup form; return the response."""
    form = signup_form(app, query)
    form["email"] = email
    form["name"] = name
    form["password"] = password
    form["password_confirm"] = password if confirm is None else confirm
    return form.submit(status=status)


def csrf_token(app: TestApp) -> str:
    return app.get("/api/auth/csrf").json["csrfToken"]


def signin(app: TestApp, email: str, password: str, callback_url: str | None = None):
    """The core's credentials form: ``POST callback/credentials`` + Auth.js CSRF."""
    data = {"csrfToken": csrf_token(app), "email": email, "password": password}
    if callback_url:
        data["callbackUrl"] = callback_url
    return app.post(SIGNIN, data, status=302)


def session(app: TestApp):
    """The session JSON (``None`` when signed out)."""
    return app.get("/api/auth/session").json


def links(message) -> list[str]:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return _LINK.findall(body)


def link_to(message, fragment: str) -> str:
    found = [u for u in links(message) if fragment in u]
    assert found, f"no link containing {fragment!r} in {links(message)}"
    return found[0]


def rows(engine: sa.Engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def user_row(engine: sa.Engine, email: str):
    found = rows(
        engine,
        'SELECT id, email, name, "emailVerified" FROM users '
        "WHERE lower(email) = lower(:e)",
        e=email,
    )
    return found[0] if found else None


def password_hash(engine: sa.Engine, user_id: int) -> str | None:
    found = rows(
        engine, "SELECT hash FROM registration_passwords WHERE user_id = :u", u=user_id
    )
    return found[0].hash if found else None


# test add-on (pyramid.includes) ---------------------------------------------------
CLAIM_VIEW = {
    "pyramid__includes": "tests.functional.registration.helpers.include_claim"
}


class TestResource:
    def __init__(self, parent, name, request) -> None:
        self.__parent__ = parent
        self.__name__ = name


def mount_post_view(config, path: str, view) -> None:
    """Serve ``view`` for ``POST <path>`` (no CSRF check: a test's own door)."""
    resource = type(f"Resource{path.replace('/', '_')}", (TestResource,), {})
    config.include("app.resources")
    config.add_resource_child(path, resource)
    config.add_view(view, context=resource, request_method="POST", require_csrf=False)


def claim_view(context, request):
    """What the core does once a magic link proves an unverified account's address.

    It ends the account's sessions (through the registry, as the core does),
    fires ``UnverifiedAccountClaimed`` and then marks the address verified
    (unlinking OAuth accounts is the core's own part, not exercised here).
    """
    adapter = request.find_service(IAdapter)
    user = adapter.get_user_by_email(request.POST["email"])
    end_user_sessions(request, user.id)
    request.registry.notify(UnverifiedAccountClaimed(request, user, "email"))
    adapter.update_user(user.id, UserChanges(email_verified=dt.datetime.now(dt.UTC)))
    request.response.text = "claimed"
    return request.response


def include_claim(config) -> None:
    """``POST /test-claim`` with ``email``: claim that unverified account."""
    mount_post_view(config, "/test-claim", claim_view)


def old_account(engine: sa.Engine, email: str, password: str = GOOD_PASSWORD) -> int:
    """A user row with a password, inserted as is: an address an older
    database may hold (letters beyond ASCII), which no form accepts now."""
    from passlib.hash import pbkdf2_sha256
    from sqlalchemy.orm import Session

    from app.auth.models import User
    from app.registration.models import PasswordCredential

    with Session(engine) as db, db.begin():
        user = User(email=email)
        db.add(user)
        db.flush()
        db.add(
            PasswordCredential(
                user_id=user.id,
                hash=pbkdf2_sha256.hash(password),
                updated_at=dt.datetime.now(dt.UTC),
            )
        )
        return user.id

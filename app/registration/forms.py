"""Plain form validation for registration's pages (no form library).

A form reads the submitted fields, returns the cleaned ``data`` (never the
password, so it cannot be echoed back) and one message per field in
``errors``, which the templates place next to the field concerned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from app.registration.passwords import PasswordPolicy

MAX_EMAIL = 254
MAX_NAME = 100
MAX_FIELD = 4096  # anything longer is refused before any work is done
MISMATCH = "The two passwords do not match."


@dataclass
class FormResult:
    data: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # the password itself, for the service; never rendered
    password: str = ""

    @property
    def valid(self) -> bool:
        return not self.errors


def _text(post: Mapping[str, str], name: str) -> str:
    value = post.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        return ""
    return value


def clean_email(value: str) -> tuple[str, str | None]:
    """``(email as typed but trimmed, error)``; syntax only, no DNS look-up."""
    email = value.strip()
    if not email:
        return email, "Enter your email address."
    if len(email) > MAX_EMAIL:
        return email[:MAX_EMAIL], "This email address is too long."
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return email, f"Enter a valid email address. {exc}"
    return email, None


def _passwords(
    result: FormResult,
    post: Mapping[str, str],
    policy: PasswordPolicy,
    email: str | None,
) -> None:
    password = _text(post, "password")
    confirm = _text(post, "password_confirm")
    refusal = policy.check(password, email=email)
    if refusal is not None:
        result.errors["password"] = refusal.message
    elif password != confirm:
        result.errors["password_confirm"] = MISMATCH
    result.password = password


def signup_form(post: Mapping[str, str], policy: PasswordPolicy) -> FormResult:
    result = FormResult()
    email, error = clean_email(_text(post, "email"))
    result.data["email"] = email
    if error:
        result.errors["email"] = error
    name = " ".join(_text(post, "name").split())
    result.data["name"] = name[:MAX_NAME]
    if len(name) > MAX_NAME:
        result.errors["name"] = f"Use at most {MAX_NAME} characters."
    _passwords(result, post, policy, email if not error else None)
    return result


def email_form(post: Mapping[str, str]) -> FormResult:
    result = FormResult()
    email, error = clean_email(_text(post, "email"))
    result.data["email"] = email
    if error:
        result.errors["email"] = error
    return result


def new_password_form(
    post: Mapping[str, str], policy: PasswordPolicy, email: str
) -> FormResult:
    result = FormResult()
    _passwords(result, post, policy, email)
    return result


def current_password(post: Mapping[str, str]) -> str:
    """The ``current_password`` field as typed (never echoed back)."""
    return _text(post, "current_password")


def password_change_form(
    post: Mapping[str, str], policy: PasswordPolicy, email: str | None
) -> FormResult:
    """The new password twice, under the signup rules."""
    result = FormResult()
    _passwords(result, post, policy, email)
    return result

"""Plain form validation for registration's pages (no form library).

A form reads the submitted fields, returns the cleaned ``data`` (never the
password, so it cannot be echoed back) and one message per field in
``errors``, which the templates place next to the field concerned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from app.auth import InvalidEmail, ascii_email
from app.registration.passwords import PasswordPolicy
from app.text import unsafe_character, without_unsafe_characters

MAX_EMAIL = 254
MAX_NAME = 100
MAX_FIELD = 4096  # longer values are cut here, before any work is done
MISMATCH = "The two passwords do not match."
CONTROL_CHARACTERS = (
    "Use no control characters (invisible or text-direction characters) in the name."
)


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
    """A field's text, cut one character past ``MAX_FIELD``: still too long
    for every field's own limit, so the form says so (it once read as empty,
    and a 70,000-character name made an account with no name)."""
    value = post.get(name, "")
    if not isinstance(value, str):
        return ""
    return value[: MAX_FIELD + 1]


def clean_name(value: str) -> tuple[str, str | None]:
    """``(name with runs of whitespace made one space, error)``.

    Tabs and line breaks become spaces; any other control character, or a
    text-direction override, is refused (and left out of the name echoed
    back on the form).
    """
    name = " ".join(value.split())
    if any(unsafe_character(c) for c in name):
        return without_unsafe_characters(name)[:MAX_NAME], CONTROL_CHARACTERS
    if len(name) > MAX_NAME:
        return name[:MAX_NAME], f"Use at most {MAX_NAME} characters."
    return name, None


def clean_email(value: str) -> tuple[str, str | None]:
    """``(email, error)``; syntax only, no DNS look-up.

    The email is as typed but trimmed, and made ASCII by the core's
    :func:`~app.auth.ascii_email` as every address the site accepts: the
    domain in its IDNA form; a local part beyond ASCII is refused (mail goes
    out without SMTPUTF8). On error, the trimmed text, to show on the form.
    """
    email = value.strip()
    if not email:
        return email, "Enter your email address."
    if len(email) > MAX_EMAIL:
        return email[:MAX_EMAIL], "This email address is too long."
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return email, f"Enter a valid email address. {exc}"
    try:
        stored = ascii_email(email)
    except InvalidEmail as exc:
        return email, str(exc)
    if len(stored) > MAX_EMAIL:
        return email, "This email address is too long."
    return stored, None


def same_email(typed: str, stored: str | None) -> bool:
    """Whether ``typed`` (an address :func:`clean_email` accepted) is ``stored``
    by the rule of the users table's unique index, ``lower(email)``.

    Told here only for an ASCII ``stored``, which every database lowers as
    Python does; one with other characters (kept from before addresses had
    to be ASCII) is never equal to an ASCII ``typed`` here, and is left to
    the look-up in SQL (``get_user_by_email``), which applies the index's own
    rule.
    """
    return bool(stored) and stored.isascii() and typed.lower() == stored.lower()


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
    name, name_error = clean_name(_text(post, "name"))
    result.data["name"] = name
    if name_error:
        result.errors["name"] = name_error
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

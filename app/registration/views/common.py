"""What every registration page shares: form reading, throttles, headers, URLs."""

from __future__ import annotations

from app.registration.errors import UnreadableForm
from app.registration.interfaces import IPasswordPolicy, IRateLimiter, IRegistration
from app.registration.ratelimit import account_key, client_key, first_attempt
from app.registration.resources import IRegistrationPage

TEMPLATES = "app.registration:templates/{}.jinja2"
MAX_CALLBACK_URL = 2048


def template(name: str) -> str:
    return TEMPLATES.format(name)


def form_body_view(view, info):
    """A view deriver: registration's pages answer 400 to input they cannot read.

    Pyramid's CSRF check (the next deriver) and the views read
    ``request.GET`` and ``request.POST``. WebOb raises on a query string that
    is not UTF-8 once percent-decoded (``UnicodeDecodeError``), on a
    ``Content-Type`` naming a charset other than UTF-8 (``DeprecationWarning``),
    on a multipart field in an unknown charset (``LookupError``) and on a
    multipart body it cannot split (``ValueError``); each was a 500. (Raw
    bytes in a form body that are not UTF-8 become replacement characters.)
    Decoding once here, first, turns those into :class:`UnreadableForm` (the
    400 page), whatever request class the application uses (the site's own
    already refuses such bodies). Views of other packages are left as they are.
    """
    context = info.options.get("context")
    if not (isinstance(context, type) and IRegistrationPage.implementedBy(context)):
        return view

    def read_input_first(context, request):
        try:
            request.GET  # noqa: B018 - decoded (and kept) by WebOb, or refused
            if request.method == "POST":
                request.POST  # noqa: B018
        except (DeprecationWarning, LookupError, ValueError) as exc:
            raise UnreadableForm(type(exc).__name__) from None
        return view(context, request)

    return read_input_first


def private_page(request, *, token_in_url: bool = False) -> None:
    """Never cached; pages reached by a token link also send no Referer onwards."""
    headers = request.response.headers
    headers["Cache-Control"] = "private, no-store"
    if token_in_url:
        headers["Referrer-Policy"] = "no-referrer"


def throttle(request, action: str) -> None:
    """Count this submission against ``action``'s per-client limit.

    Raises :class:`TooManyAttempts` when over it.
    """
    if first_attempt(request):
        request.find_service(IRateLimiter).consume((action, client_key(request)))


def throttle_mail_to(request, email: str) -> None:
    """Count a mail to ``email`` against ``mail_account`` (per address, any client).

    Counted for every well-formed address, known or not, so a refusal
    reveals nothing about accounts. Raises :class:`TooManyAttempts`.
    """
    if first_attempt(request):
        request.find_service(IRateLimiter).consume(("mail_account", account_key(email)))


def registration(request):
    return request.find_service(IRegistration)


def policy(request):
    return request.find_service(IPasswordPolicy)


def callback_url(request) -> str:
    """The ``callbackUrl`` carried through the form (checked again by the core)."""
    value = request.params.get("callbackUrl", "")
    if not isinstance(value, str) or len(value) > MAX_CALLBACK_URL:
        return ""
    return value

"""OAuth 2 sign-in through authlib's requests client (Auth.js ``type: "oauth"``).

:class:`OAuth2` is the authorization-code flow every OAuth provider shares:

- :meth:`OAuth2.begin` (``POST signin/<id>``, CSRF already checked) creates
  the PKCE/state/nonce checks (:mod:`app.auth.providers.checks`), copies the
  POST's query parameters into the authorization URL as Auth.js does, and
  redirects to the provider with ``redirect_uri = B/callback/<id>``;
- :meth:`OAuth2.complete` (``callback/<id>``) uses the checks, exchanges the
  code at the token endpoint (``client_secret_basic`` by default), fetches
  the profile and maps it to a user and an account (Auth.js's default
  ``profile()``: ``id = sub ?? id``, ``name = name ?? nickname ??
  preferred_username``, ``email`` lower-cased, ``image = picture``).

Unlike Auth.js, the email is used only when the provider verified it: the
mapped profile must say ``"email_verified": True`` (the default mapping
reads the profile's ``email_verified`` claim, ``true`` or ``"true"``; the
GitHub preset asks ``/user/emails``). A ``profile=`` callback says so
itself, e.g. ``{"id": p["id"], "email": p["email"], "email_verified":
p.get("verified_email") is True}``; without it the user gets no email, and
no account is found, linked or created by email.

The protocol is authlib's (``OAuth2Session.create_authorization_url`` and
``fetch_token``); this module only decides where values live and how each
failure is reported. Subclasses change where the endpoints come from
(:class:`~app.auth.providers.oidc.OIDC`: discovery) and how the profile is
fetched (:class:`~app.auth.providers.github.GitHub`).

Beyond Auth.js, a provider must use PKCE or state (or ``nonce`` alone would
leave the callback open to a code injected by someone else): one configured
with neither is refused when it is made, unless ``checks_unsupported=True``
(setting ``auth.provider.<id>.checks_unsupported = true``) says the provider
supports neither; one whose discovery takes PKCE away (no S256) and has no
state is refused at sign-in.

Failures end on Auth.js's error redirects and are logged with the reason:
a missing, forged or mismatched check is ``InvalidCheck`` (the state is
checked first); ``?error=`` from the provider is then ``OAuthCallbackError``;
a provider that is down, slow (``auth.http_timeout``), refuses the code (a
replayed one) or sends an invalid token is ``CallbackRouteError``
(``SignInError`` while starting).
The last three are not client safe, so the browser sees ``Configuration``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import is_secure_transport
from authlib.integrations.requests_client import OAuth2Session

from app.auth.errors import CallbackRouteError, OAuthCallbackError, SignInError
from app.auth.interfaces import AdapterAccount, AdapterUser
from app.auth.providers import checks
from app.auth.providers.base import Provider, SignInOutcome
from app.auth.providers.email import InvalidEmail, ascii_email, lower_ascii

if TYPE_CHECKING:
    from pyramid.response import Response

    from app.auth.providers.base import ProviderContext

log = logging.getLogger(__name__)

USER_AGENT = "authsite-auth (authlib)"
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
# Authorization-request parameters a POST signin query may not override: the
# protocol's own and the checks' (Auth.js sets the checks after the query).
RESERVED_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "code_verifier",
        "url",
        "callbackUrl",
        "csrfToken",
    }
)
MAX_NAME_LENGTH = 255
MAX_EMAIL_LENGTH = 255
MAX_LOGGED = 120

Profile = Mapping[str, Any]
ProfileCallback = Callable[[Profile, Mapping[str, Any]], Mapping[str, Any]]


class ProviderError(Exception):
    """The provider could not be used: unreachable, slow, or answered badly.

    The message is the reason to log; it never contains a token or secret.
    """


def describe_http_error(exc: Exception, what: str, timeout: float) -> str:
    """A loggable reason for a failed request to the provider."""
    if isinstance(exc, requests.Timeout):
        return f"{what} did not answer within {timeout:g}s"
    if isinstance(exc, requests.ConnectionError):
        return f"{what} is unreachable ({exc.__class__.__name__})"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"{what} answered HTTP {exc.response.status_code}"
    if isinstance(exc, AuthlibBaseError):
        return f"{what} refused: {exc.error}"
    return f"{what} failed ({exc.__class__.__name__})"


def shorten(value: object) -> str:
    """A provider- or attacker-supplied value, safe to put in a log line."""
    return repr(str(value)[:MAX_LOGGED])


def require_secure_url(url: object, what: str) -> str:
    """``url`` if it is https (or http on a loopback address, for development)."""
    if not isinstance(url, str) or not is_secure_transport(url):
        raise ProviderError(f"{what} {shorten(url)} is not an https URL")
    return url


class OAuth2(Provider):
    """A plain OAuth 2 provider: fixed endpoints and a JSON ``userinfo`` endpoint."""

    type: ClassVar[str] = "oauth"
    template: ClassVar[str] = "app.auth:templates/providers/oauth.jinja2"
    default_checks: ClassVar[tuple[str, ...]] = (checks.PKCE, checks.STATE)
    default_scope: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        id: str,
        client_id: str,
        client_secret: str | None = None,
        name: str | None = None,
        authorization_endpoint: str | None = None,
        token_endpoint: str | None = None,
        userinfo_endpoint: str | None = None,
        scope: str | Iterable[str] | None = None,
        checks: Iterable[str] | None = None,
        authorization_params: Mapping[str, str] | None = None,
        token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107 - a name
        allow_dangerous_email_account_linking: bool = False,
        profile: ProfileCallback | None = None,
        checks_unsupported: bool = False,
    ) -> None:
        super().__init__(id, name or id)
        if not client_id:
            raise ValueError(f"provider {id}: client_id is required")
        if token_endpoint_auth_method not in TOKEN_ENDPOINT_AUTH_METHODS:
            raise ValueError(
                f"provider {id}: token_endpoint_auth_method must be one of "
                f"{', '.join(TOKEN_ENDPOINT_AUTH_METHODS)}"
            )
        if token_endpoint_auth_method != "none" and not client_secret:  # noqa: S105
            raise ValueError(
                f"provider {id}: client_secret is required "
                f"(token_endpoint_auth_method {token_endpoint_auth_method})"
            )
        if profile is not None and not callable(profile):
            raise TypeError(f"provider {id}: profile must be callable")
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_endpoint_auth_method = token_endpoint_auth_method
        if scope is not None and not isinstance(scope, str):
            scope = " ".join(scope)
        self.scope = scope if scope is not None else self.default_scope
        self.checks = self._validated_checks(checks)
        self.checks_unsupported = bool(checks_unsupported)
        if not (self.checks_unsupported or protected(self.checks)):
            raise ValueError(
                f"provider {id}: checks must include pkce or state, or the "
                "callback accepts an attacker's code; only if the provider "
                "supports neither, say so with checks_unsupported=True"
            )
        self.authorization_params = dict(authorization_params or {})
        reserved = sorted(RESERVED_PARAMS & set(self.authorization_params))
        if reserved:
            raise ValueError(
                f"provider {id}: authorization_params may not set {', '.join(reserved)}"
            )
        self.form_post = self.authorization_params.get("response_mode") == "form_post"
        self.allow_dangerous_email_account_linking = bool(
            allow_dangerous_email_account_linking
        )
        self.profile_callback = profile
        self._endpoints = {
            k: v
            for k, v in (
                ("authorization_endpoint", authorization_endpoint),
                ("token_endpoint", token_endpoint),
                ("userinfo_endpoint", userinfo_endpoint),
            )
            if v
        }
        self._check_endpoints()

    def _validated_checks(self, wanted: Iterable[str] | None) -> tuple[str, ...]:
        return checks.validate_checks(self.default_checks if wanted is None else wanted)

    def _check_endpoints(self) -> None:
        for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint"):
            if key not in self._endpoints:
                raise ValueError(f"provider {self.id}: {key} is required")
        for key, url in self._endpoints.items():
            try:
                require_secure_url(url, key)
            except ProviderError as exc:
                raise ValueError(f"provider {self.id}: {exc}") from None

    # where the provider is -----------------------------------------------------
    def server_metadata(self, timeout: float) -> Mapping[str, Any]:
        """The provider's endpoints; raises :class:`ProviderError` if unavailable."""
        return self._endpoints

    def client(self, timeout: float, redirect_uri: str | None = None) -> OAuth2Session:
        """A fresh authlib session for this provider (close it after use)."""
        session = OAuth2Session(
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_endpoint_auth_method=self.token_endpoint_auth_method,
            scope=self.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            default_timeout=timeout,
        )
        session.headers["User-Agent"] = USER_AGENT
        return session

    def effective_checks(self, metadata: Mapping[str, Any]) -> tuple[str, ...]:
        return self.checks

    def usable_checks(self, metadata: Mapping[str, Any]) -> tuple[str, ...]:
        """:meth:`effective_checks`, refused (:class:`ProviderError`) when the
        provider's metadata took away the last of pkce and state."""
        enabled = self.effective_checks(metadata)
        if not (self.checks_unsupported or protected(enabled)):
            raise ProviderError(
                f"checks {','.join(enabled) or 'none'} include neither pkce nor "
                "state for this provider (checks_unsupported is not set)"
            )
        return enabled

    # POST signin/<id> ---------------------------------------------------------------
    def begin(self, flow: ProviderContext) -> Response:
        timeout = flow.settings.http_timeout
        try:
            metadata = self.server_metadata(timeout)
            enabled = self.usable_checks(metadata)
        except ProviderError as exc:
            log.warning("signin provider=%s failed: %s", self.id, exc)
            raise SignInError(f"provider={self.id}: {exc}") from None
        redirect_uri = flow.url("callback", self.id)
        made = checks.create(flow, self.id, enabled, form_post=self.form_post)
        params = dict(self.authorization_params)
        # Auth.js copies the POST's query into the authorization URL
        # (``?login=...``, ``?prompt=...``), but not over the protocol's own.
        params.update({k: v for k, v in flow.query.items() if k not in RESERVED_PARAMS})
        if made.nonce is not None:
            params["nonce"] = made.nonce
        with self.client(timeout, redirect_uri) as session:
            url, _ = session.create_authorization_url(
                metadata["authorization_endpoint"],
                state=made.state or "",  # "" leaves it out; None would make one
                code_verifier=made.code_verifier,
                **params,
            )
        log.info(
            "signin provider=%s checks=%s -> authorization endpoint",
            self.id,
            ",".join(enabled) or "none",
        )
        return flow.redirect(url)

    # callback/<id> -------------------------------------------------------------------
    def complete(self, flow: ProviderContext) -> SignInOutcome:
        request = flow.request
        params = flow.body if request.method == "POST" else flow.query
        timeout = flow.settings.http_timeout
        try:
            metadata = self.server_metadata(timeout)
            enabled = self.usable_checks(metadata)
        except ProviderError as exc:
            checks.use(flow, self.id, (), form_post=self.form_post)  # still clear them
            log.warning("callback provider=%s failed: %s", self.id, exc)
            raise CallbackRouteError(f"provider={self.id}: {exc}") from None
        used = checks.use(flow, self.id, enabled, form_post=self.form_post)

        # As Auth.js: the state is checked before the provider's error is
        # read, so a callback without this browser's state (a denial forged
        # or replayed by someone else) is InvalidCheck, not OAuthCallbackError.
        used.verify_state(params.get("state"))
        error = params.get("error")
        if error:
            raise OAuthCallbackError(
                f"provider={self.id} returned error={shorten(error)} "
                f"description={shorten(params.get('error_description', ''))}"
            )
        code = params.get("code")
        if not isinstance(code, str) or not code:
            raise CallbackRouteError(f"provider={self.id}: no code in the callback")
        code_verifier = used.require(checks.PKCE)
        nonce = used.require(checks.NONCE)

        try:
            with self.client(timeout, flow.url("callback", self.id)) as session:
                token = self.fetch_token(
                    session, metadata, code, code_verifier, timeout
                )
                profile = self.fetch_profile(
                    session, metadata, token, nonce=nonce, timeout=timeout
                )
        except ProviderError as exc:
            log.warning("callback provider=%s failed: %s", self.id, exc)
            raise CallbackRouteError(f"provider={self.id}: {exc}") from None
        outcome = self.outcome(profile, token)
        log.info(
            "callback provider=%s account=%s",
            self.id,
            outcome.account.provider_account_id if outcome.account else None,
        )
        return outcome

    def fetch_token(
        self,
        session: OAuth2Session,
        metadata: Mapping[str, Any],
        code: str,
        code_verifier: str | None,
        timeout: float,
    ) -> dict[str, Any]:
        """Exchange the code at the token endpoint (authlib's ``fetch_token``)."""
        extra = {"code_verifier": code_verifier} if code_verifier else {}
        try:
            token = session.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                **extra,
            )
        except (requests.RequestException, AuthlibBaseError) as exc:
            raise ProviderError(
                describe_http_error(exc, "token endpoint", timeout)
            ) from None
        except ValueError:
            raise ProviderError("token endpoint answered no JSON object") from None
        if not isinstance(token.get("access_token"), str):
            raise ProviderError("token endpoint answered without an access_token")
        return dict(token)

    def fetch_profile(
        self,
        session: OAuth2Session,
        metadata: Mapping[str, Any],
        token: Mapping[str, Any],
        *,
        nonce: str | None,
        timeout: float,
    ) -> dict[str, Any]:
        """The user's profile; the plain OAuth 2 way is ``GET userinfo_endpoint``."""
        return self.get_json(
            session, metadata["userinfo_endpoint"], "userinfo endpoint", timeout
        )

    def get_json(
        self,
        session: OAuth2Session,
        url: str,
        what: str,
        timeout: float,
        *,
        with_token: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """``GET url`` (with the access token unless told not to) and parse JSON."""
        try:
            response = session.get(
                url, withhold_token=not with_token, headers=dict(headers or {})
            )
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, AuthlibBaseError) as exc:
            raise ProviderError(describe_http_error(exc, what, timeout)) from None
        except ValueError:
            raise ProviderError(f"{what} answered no JSON") from None

    # profile -> user and account ------------------------------------------------
    def map_profile(
        self, profile: Profile, token: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """Auth.js's default ``profile()``; a ``profile=`` callback replaces it.

        Beyond Auth.js, the mapping says whether the provider verified the
        email: ``email_verified`` is true when the profile's (OpenID Connect's
        claim) is JSON ``true`` or the string ``"true"``.
        """
        if self.profile_callback is not None:
            return self.profile_callback(profile, token)
        return {
            "id": profile.get("sub")
            if profile.get("sub") is not None
            else profile.get("id"),
            "name": profile.get("name")
            or profile.get("nickname")
            or profile.get("preferred_username"),
            "email": profile.get("email"),
            "email_verified": claims_verified(profile.get("email_verified")),
            "image": profile.get("picture"),
        }

    def outcome(self, profile: Profile, token: Mapping[str, Any]) -> SignInOutcome:
        mapped = self.map_profile(profile, token)
        account_id = mapped.get("id")
        if account_id is None or isinstance(account_id, bool) or str(account_id) == "":
            raise CallbackRouteError(f"provider={self.id}: the profile has no id")
        email = mapped.get("email")
        email = (
            provider_email(email.strip())
            if isinstance(email, str) and email.strip()
            else None
        )
        if email is not None and mapped.get("email_verified") is not True:
            # Anyone can type any address into an account at most providers:
            # one the provider has not verified must not find, link or create
            # a user (it would sign in to, or claim, its owner's account).
            log.info("provider=%s: email not verified by the provider, unused", self.id)
            email = None
        if email is not None and (len(email) > MAX_EMAIL_LENGTH or "@" not in email):
            raise CallbackRouteError(
                f"provider={self.id}: unusable email in the profile"
            )
        name = mapped.get("name")
        name = name[:MAX_NAME_LENGTH] if isinstance(name, str) and name else None
        image = mapped.get("image")
        image = image if isinstance(image, str) and image else None
        # As Auth.js: the profile's user gets a fresh id; resolve_user finds
        # or creates the stored one.
        user = AdapterUser(id=str(uuid.uuid4()), email=email, name=name, image=image)
        expires_at = token.get("expires_at")
        token_type = token.get("token_type")
        account = AdapterAccount(
            user_id=user.id,
            type=self.type,
            provider=self.id,
            provider_account_id=str(account_id),
            access_token=_text(token.get("access_token")),
            refresh_token=_text(token.get("refresh_token")),
            expires_at=int(expires_at) if isinstance(expires_at, int | float) else None,
            id_token=_text(token.get("id_token")),
            scope=_text(token.get("scope")),
            token_type=token_type.lower() if isinstance(token_type, str) else None,
            session_state=_text(token.get("session_state")),
        )
        return SignInOutcome(user=user, account=account, profile=dict(profile))


def protected(enabled: Iterable[str]) -> bool:
    """Whether ``enabled`` checks bind the callback to this browser's request:
    PKCE or state (nonce alone protects only OpenID Connect's ID token)."""
    return bool({checks.PKCE, checks.STATE} & set(enabled))


def provider_email(address: str) -> str:
    """A profile's address as it is looked up, linked and stored.

    As every address the site accepts: the domain in its IDNA form
    (:func:`~app.auth.providers.email.ascii_email`), so ``bob@Bücher.example``
    finds the account signed up as ``bob@xn--bcher-kva.example``; then
    lower-cased, for ASCII letters only, as every database's ``lower()``:
    Python's lower() also folded "É", which SQLite's does not, so a verified
    "Élodie@..." missed the account stored so and made a second one. A local
    part beyond ASCII is kept as the provider vouches for it (no mail
    reaches it: mail leaves without SMTPUTF8).
    """
    try:
        address = ascii_email(address)
    except InvalidEmail:
        pass
    return lower_ascii(address)


def claims_verified(value: object) -> bool:
    """An ``email_verified`` claim: JSON ``true``, or ``"true"`` as some
    providers send it; anything else is unverified."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

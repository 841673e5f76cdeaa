"""The GitHub preset: OAuth 2 without OpenID Connect, the profile from GitHub's API.

As Auth.js's GitHub provider: scope ``read:user user:email``, the profile
from ``GET https://api.github.com/user`` and the addresses from
``GET /user/emails``. Where Auth.js takes ``/user``'s public email, or else
the primary address, whether or not GitHub has verified it, this takes only
an address that ``/user/emails`` marks verified: the public one if it is
among them, else the primary one, else another verified one, else none. An
unverified address must not decide whose account an OAuth sign-in links to.
The profile handed on carries the chosen address as ``email`` and
``email_verified: true`` when there is one.

The endpoints are parameters (``authorization_endpoint``, ``token_endpoint``,
``api_url``), for GitHub Enterprise and for tests against a local fake.
Register ``<AUTH_URL>/api/auth/callback/github`` as the callback URL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from app.auth.providers.oauth import OAuth2, ProviderError

log = logging.getLogger(__name__)

AUTHORIZATION_ENDPOINT = "https://github.com/login/oauth/authorize"
TOKEN_ENDPOINT = "https://github.com/login/oauth/access_token"  # noqa: S105 - a URL
API_URL = "https://api.github.com"
API_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}


def verified_email(emails: object, public: object = None) -> str | None:
    """The address to use from a ``/user/emails`` answer: the ``public`` one
    (``/user``'s) if it is verified, else the verified primary one, else any
    verified one; ``None`` when GitHub has verified none."""
    if not isinstance(emails, Sequence) or isinstance(emails, str | bytes):
        return None
    entries = [
        e for e in emails if isinstance(e, Mapping) and isinstance(e.get("email"), str)
    ]
    verified = [e for e in entries if e.get("verified") is True]
    if isinstance(public, str):
        for entry in verified:
            if entry["email"].lower() == public.lower():
                return entry["email"]
    for entry in verified:
        if entry.get("primary") is True:
            return entry["email"]
    return verified[0]["email"] if verified else None


def github_user(profile: Mapping[str, Any]) -> dict[str, Any]:
    """Auth.js's GitHub ``profile()``: id as a string, name or login, avatar;
    the email is verified when :meth:`GitHub.fetch_profile` says so."""
    raw_id = profile.get("id")
    return {
        "id": str(raw_id) if isinstance(raw_id, int | str) and raw_id != "" else None,
        "name": profile.get("name") or profile.get("login"),
        "email": profile.get("email"),
        "email_verified": profile.get("email_verified") is True,
        "image": profile.get("avatar_url"),
    }


class GitHub(OAuth2):
    type = "oauth"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str | None = None,
        id: str = "github",
        name: str = "GitHub",
        scope: str = "read:user user:email",
        authorization_endpoint: str = AUTHORIZATION_ENDPOINT,
        token_endpoint: str = TOKEN_ENDPOINT,
        api_url: str = API_URL,
        **kwargs: Any,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        super().__init__(
            id=id,
            client_id=client_id,
            client_secret=client_secret,
            name=name,
            scope=scope,
            authorization_endpoint=authorization_endpoint,
            token_endpoint=token_endpoint,
            userinfo_endpoint=self.api_url + "/user",
            **kwargs,
        )

    def fetch_profile(
        self, session, metadata, token, *, nonce, timeout
    ) -> dict[str, Any]:
        profile = self.get_json(
            session,
            metadata["userinfo_endpoint"],
            "GitHub /user",
            timeout,
            headers=API_HEADERS,
        )
        if not isinstance(profile, dict):
            raise ProviderError("GitHub /user answered no JSON object")
        # /user's public email says nothing of verification: only an address
        # /user/emails marks verified (scope user:email) is used.
        try:
            emails = self.get_json(
                session,
                self.api_url + "/user/emails",
                "GitHub /user/emails",
                timeout,
                headers=API_HEADERS,
            )
        except ProviderError as exc:
            # Auth.js carries on without an email when this call fails.
            log.info("provider=%s signs in without an email: %s", self.id, exc)
            emails = None
        email = verified_email(emails, profile.get("email"))
        return {**profile, "email": email, "email_verified": email is not None}

    def map_profile(self, profile, token) -> Mapping[str, Any]:
        if self.profile_callback is not None:
            return self.profile_callback(profile, token)
        return github_user(profile)

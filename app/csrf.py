"""Pyramid's CSRF token for the site's own forms (signup, reset, verify).

The token lives in a cookie (``csrf_token``, double submit), as with
Pyramid's :class:`~pyramid.csrf.CookieCSRFStoragePolicy`. That policy fixes
the cookie's ``Secure`` flag once at start-up, so a site whose origin is
only known per request (``auth.url`` unset, behind a TLS proxy that sends
``X-Forwarded-Proto: https``) would send it without ``Secure``. Here each
new cookie asks the auth core, which decides for its own cookies the same
way (:func:`app.auth.secure_cookies`).

The auth core's endpoints check Auth.js's double-submit token instead and
opt out of Pyramid's check.
"""

from __future__ import annotations

from pyramid.csrf import CookieCSRFStoragePolicy

from app.auth import secure_cookies


class SiteCSRFStoragePolicy(CookieCSRFStoragePolicy):
    """The cookie policy with ``Secure`` decided per request."""

    def __init__(self, cookie_name: str = "csrf_token") -> None:
        options = {"cookie_name": cookie_name, "httponly": True, "samesite": "Lax"}
        super().__init__(secure=False, **options)
        # The inherited profile reads the cookie, and writes it on plain http;
        # Pyramid's own policy with secure=True lends the one for https.
        self.secure_cookie_profile = CookieCSRFStoragePolicy(
            secure=True, **options
        ).cookie_profile

    def new_csrf_token(self, request) -> str:
        token = self._token_factory()
        request.cookies[self.cookie_name] = token
        if secure_cookies(request):
            profile = self.secure_cookie_profile
        else:
            profile = self.cookie_profile

        def set_cookie(request, response) -> None:
            profile.set_cookies(response, token)

        request.add_response_callback(set_cookie)
        return token


def includeme(config) -> None:
    config.set_csrf_storage_policy(SiteCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True)

"""The site: a Pyramid app composed of the auth core, registration and pages.

``main`` is the composition root (the ``paste.app_factory`` entry point used
by ``pserve``): it only includes packages; each reads its own settings.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.csrf import CookieCSRFStoragePolicy


def main(global_config, **settings):
    with Configurator(settings=settings) as config:
        config.include("app.models")
        config.include("app.mail")
        config.include("app.auth")
        # The site's own forms (signup, password reset) use Pyramid's CSRF
        # support with a cookie-held token; the auth core's endpoints check
        # Auth.js's double-submit token instead and opt out of this default.
        config.set_csrf_storage_policy(
            CookieCSRFStoragePolicy(
                cookie_name="csrf_token",
                secure=_https(config),
                httponly=True,
                samesite="Lax",
            )
        )
        config.set_default_csrf_options(require_csrf=True)
        config.include("app.registration")
        config.include("app.site")
    return config.make_wsgi_app()


def _https(config) -> bool:
    from app.auth import auth_settings

    settings = auth_settings(config.registry)
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return bool(settings.url and settings.url.startswith("https://"))

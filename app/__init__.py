"""The site: a Pyramid app composed of the auth core, registration and pages.

``main`` is the composition root (the ``paste.app_factory`` entry point used
by ``pserve``): it only includes packages; each reads its own settings.
"""

from __future__ import annotations

from pyramid.config import Configurator


def main(global_config, **settings):
    with Configurator(settings=settings) as config:
        config.include("app.request")
        config.include("app.security_headers")
        config.include("app.dev_guard")
        config.include("app.models")
        config.include("app.mail")
        config.include("app.auth")
        config.include("app.csrf")
        config.include("app.registration")
        config.include("app.site")
    return config.make_wsgi_app()

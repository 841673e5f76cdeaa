"""Development only: refuse what the debug toolbar must never be handed.

``make run`` serves the site with pyramid_debugtoolbar, whose tween sits
above the site's exception views (it must, to show their tracebacks), and
with ``/dev/mail``, which lists everyone's mailed links. Two things reached
them that the site's own views refuse:

- **A Host that is not ours (DNS rebinding).** The toolbar trusts the client
  address (``debugtoolbar.hosts``), not the Host. A web page the developer
  visits can point its own name at 127.0.0.1 and then read the toolbar (the
  bodies of recent requests, passwords included) and ``/dev/mail`` as a
  same-origin page. Its requests carry its own name in ``Host``, so here any
  Host whose name is not in ``auth.dev_hosts`` (nor ``auth.url``'s) is a 400.
- **A path that is not UTF-8** (``/%ff``): the toolbar reads the path before
  the site's 400 view could answer, and waitress answered 500.

This tween runs first (under the security headers), before the toolbar, and
answers both with the site's 400 page. Outside development it is not
installed: there is no toolbar and no ``/dev/mail``, and the proxy in front
decides which hosts reach the site.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from pyramid.exceptions import URLDecodeError
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.tweens import INGRESS

from app.auth import auth_settings

log = logging.getLogger(__name__)


def host_name(host: str) -> str | None:
    """The name in a ``Host`` header (``[::1]:6543`` → ``::1``), lowercased;
    None when it is not a host[:port]."""
    try:
        parts = urlsplit(f"//{host}")
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    return parts.hostname


def dev_guard_tween_factory(handler, registry):
    settings = auth_settings(registry)
    if not settings.development:
        return handler
    allowed = set(settings.dev_hosts)
    if settings.url:
        allowed.add(urlsplit(settings.url).hostname)

    def dev_guard_tween(request):
        try:
            request.path_info  # noqa: B018 - decoded here, or refused
            name = host_name(request.host)
            if name not in allowed:
                log.info("host %r refused (auth.dev_hosts)", request.host[:100])
                raise HTTPBadRequest("host not allowed in development")
        except UnicodeDecodeError as exc:
            error = URLDecodeError(*exc.args)
            return request.invoke_exception_view((URLDecodeError, error, None))
        except HTTPBadRequest:
            return request.invoke_exception_view()
        return handler(request)

    return dev_guard_tween


def includeme(config) -> None:
    config.add_tween(
        "app.dev_guard.dev_guard_tween_factory",
        under=("app.security_headers.security_headers_tween_factory", INGRESS),
    )

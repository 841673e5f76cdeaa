"""Security headers on every response of the site, in one tween.

- ``X-Content-Type-Options: nosniff`` on everything, so a browser never runs
  a JSON answer or an uploaded-looking body as script or HTML;
- ``Content-Security-Policy: frame-ancestors 'none'`` and
  ``X-Frame-Options: DENY`` on HTML, so no other site can frame a sign-in or
  signup form and trick a person into clicking it (clickjacking); the older
  header is for browsers that do not know ``frame-ancestors``;
- ``Referrer-Policy: strict-origin-when-cross-origin``, so a URL's path and
  query (a ``callbackUrl``, a token) never leave the site in a ``Referer``.

A view that chose its own ``Referrer-Policy`` keeps it: the pages reached by a
mailed token link send ``no-referrer``. A view's own Content-Security-Policy
keeps its directives and gains ``frame-ancestors 'none'`` unless it names one.

The tween sits at the top of the chain (under ``INGRESS``), so it also sees
the answers of tweens below it: the debug toolbar's own pages (it opens in
its own window, never in a frame), pyramid_tm's commit failures and the 400
for an unreadable form.
"""

from __future__ import annotations

from pyramid.tweens import INGRESS

FRAME_ANCESTORS = "frame-ancestors 'none'"
REFERRER_POLICY = "strict-origin-when-cross-origin"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def add_security_headers(response) -> None:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    if response.content_type in HTML_TYPES:
        headers["X-Frame-Options"] = "DENY"
        policy = headers.get("Content-Security-Policy")
        if policy is None:
            headers["Content-Security-Policy"] = FRAME_ANCESTORS
        elif "frame-ancestors" not in policy:
            headers["Content-Security-Policy"] = f"{policy}; {FRAME_ANCESTORS}"


def security_headers_tween_factory(handler, registry):
    def security_headers_tween(request):
        response = handler(request)
        add_security_headers(response)
        return response

    return security_headers_tween


def includeme(config) -> None:
    config.add_tween(
        "app.security_headers.security_headers_tween_factory", under=INGRESS
    )

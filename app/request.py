"""The site's request class: a form body that cannot be read is a 400.

WebOb's ``request.POST`` raises plain exceptions for a body a client got
wrong: ``DeprecationWarning`` (an exception here, not a warning) when the
Content-Type names any charset but UTF-8, ``LookupError`` or
``UnicodeDecodeError`` for a multipart field in an unknown or mismatched
charset, ``ValueError`` for a multipart body without a usable boundary.
Each would reach the generic error view as a 500. Every reader of a form
(Pyramid's CSRF check, the signup and reset views, ``request.params``) goes
through ``POST``, so mending it here answers 400 on every page at once.

The site's pages declare UTF-8 and browsers submit their forms in it, so a
form in another charset is refused rather than transcoded. Bytes that are
not valid UTF-8 are read with replacement characters, as WebOb does. The auth
core reads its bodies itself (``request.body``, as Auth.js does) and keeps
its own rules.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.request import Request


class SiteRequest(Request):
    @property
    def POST(self):  # noqa: N802 - WebOb's name
        try:
            return super().POST
        except (DeprecationWarning, LookupError, UnicodeError, ValueError) as exc:
            raise HTTPBadRequest("the form body cannot be read") from exc


def includeme(config) -> None:
    config.set_request_factory(SiteRequest)

"""What the advisory tests check again and again: where a browser ends up, what a
mail carries, and which secret values must never be written down.

These are observations of real answers (Location headers, Set-Cookie headers,
HTML, SMTP envelopes, log records); nothing here stands in for a part of the
product.
"""

from __future__ import annotations

import json
import logging
from html.parser import HTMLParser
from urllib.parse import unquote

ATTACKER = "attacker.example"

# Redirect targets an attacker hands over as ``callbackUrl``: other origins,
# scheme-relative and backslash tricks, userinfo and look-alike hosts,
# script schemes, characters a browser drops or folds before parsing.
OFFSITE_TARGETS = (
    f"https://{ATTACKER}/",
    f"http://{ATTACKER}",
    f"//{ATTACKER}/",
    f"///{ATTACKER}/",
    f"/\\{ATTACKER}/",
    f"\\\\{ATTACKER}/",
    f"/\t/{ATTACKER}/",
    f" https://{ATTACKER}/",
    f"https:{ATTACKER}",
    f"http:/{ATTACKER}",
    f"http://localhost@{ATTACKER}/",
    f"http://localhost:80@{ATTACKER}/",
    f"http://localhost.{ATTACKER}/",
    f"http://{ATTACKER}/http://localhost/",
    f"http://{ATTACKER}#http://localhost",
    f"HTTP://{ATTACKER.upper()}/",
    "https://attacker\u3002example/",  # IDEOGRAPHIC FULL STOP: a browser reads "."
    "http://\uff41ttacker.example/",  # FULLWIDTH a
    f"javascript:alert(document.domain)//http://localhost/{ATTACKER}",
    "data:text/html,<script>alert(document.domain)</script>",
)


def on_site(url: str, origin: str) -> bool:
    """Whether a browser sent to ``url`` stays on ``origin`` (strictly: an
    absolute ASCII URL on the origin, so no parser can read another host)."""
    return (
        isinstance(url, str)
        and url.isascii()
        and not any(c in url for c in "\\\t\r\n")
        and (url == origin or url.startswith(origin + "/"))
    )


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name"):
            self.fields.append((found["name"], found.get("value") or ""))
        if tag == "a":
            self.links.append(found.get("href") or "")


def form_values(html: str, name: str) -> list[str]:
    """Every ``<input name=...>`` value in a page, entities decoded."""
    parser = _Forms()
    parser.feed(html)
    return [value for field, value in parser.fields if field == name]


def links(html: str) -> list[str]:
    """Every ``<a href>`` of an HTML document, entities decoded."""
    parser = _Forms()
    parser.feed(html)
    return parser.links


def callback_url_cookies(set_cookie_headers: list[str]) -> list[str]:
    """The values (percent-decoded) the response stores in a callback-url cookie."""
    values = []
    for header in set_cookie_headers:
        name, _, rest = header.partition("=")
        if name.endswith("authjs.callback-url"):
            value = rest.split(";", 1)[0]
            if value:
                values.append(unquote(value))
    return values


def redirect_target(status: int, headers, body: bytes) -> str | None:
    """Where the answer sends the browser: ``Location``, or the ``{"url"}``
    that Auth.js answers instead of a 302 to ``X-Auth-Return-Redirect``."""
    if 300 <= status < 400:
        return headers.get("Location")
    if headers.get("Content-Type", "").startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            return data["url"]
    return None


def unsafe_targets(
    status: int, headers, body: bytes, set_cookies: list[str], origin: str
) -> list[str]:
    """Every place an answer could send the browser that is not on ``origin``."""
    targets = [redirect_target(status, headers, body)]
    targets += callback_url_cookies(set_cookies)
    if headers.get("Content-Type", "").startswith("text/html"):
        targets += form_values(body.decode("utf-8", "replace"), "callbackUrl")
    return [t for t in targets if t is not None and not on_site(t, origin)]


# logs --------------------------------------------------------------------------
_FORMAT = logging.Formatter("%(name)s %(levelname)s %(message)s")


def rendered(record: logging.LogRecord) -> str:
    """A record as a handler would write it, traceback and stack included."""
    return _FORMAT.format(record)


def leaked(records, secrets: dict[str, str], *, thread_prefix: str) -> list:
    """``(secret name, logger, line)`` for each secret found in a record.

    Only records written while the server handled a request count (its
    worker threads' names start with ``thread_prefix``): the test's own HTTP
    client and the OpenID provider it talks to log in other threads, and
    their logs are not the product's.
    """
    found = []
    for record in records:
        if not record.threadName.startswith(thread_prefix):
            continue
        text = rendered(record)
        for what, value in secrets.items():
            if value and value in text:
                found.append((what, record.name, text[:300]))
    return found

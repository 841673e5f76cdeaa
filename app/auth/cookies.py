"""Auth.js cookie names, attributes, serialisation and session-token chunking.

Names follow ``@auth/core`` (``lib/utils/cookie.ts``): ``authjs.*`` on plain
http, ``__Secure-authjs.*`` (and ``__Host-authjs.csrf-token``) on https.
Every cookie is ``HttpOnly; SameSite=Lax; Path=/``, ``Secure`` on https, no
``Domain``. Values are percent-encoded as JavaScript's ``encodeURIComponent``
does (the ``cookie`` npm package), attributes in the same order, so a
response here is byte-for-byte what Auth.js would send.

A session token longer than :data:`CHUNK_SIZE` is split over ``<name>.0``,
``<name>.1`` ... and re-assembled in numeric order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

CHUNK_SIZE = 4096 - 160  # 3936 characters of value per cookie, as Auth.js
MAX_CHUNKS = 16  # more than this is not a session we made: ignore it
CHECK_MAX_AGE = 15 * 60  # PKCE / state / nonce cookies live 15 minutes

_ENCODE_SAFE = "-_.!~*'()"  # encodeURIComponent leaves these (and alphanumerics)


@dataclass(frozen=True)
class CookieNames:
    session_token: str
    callback_url: str
    csrf_token: str
    pkce_code_verifier: str
    state: str
    nonce: str


def cookie_names(secure: bool) -> CookieNames:
    prefix = "__Secure-" if secure else ""
    return CookieNames(
        session_token=f"{prefix}authjs.session-token",
        callback_url=f"{prefix}authjs.callback-url",
        csrf_token=f"{'__Host-' if secure else ''}authjs.csrf-token",
        pkce_code_verifier=f"{prefix}authjs.pkce.code_verifier",
        state=f"{prefix}authjs.state",
        nonce=f"{prefix}authjs.nonce",
    )


SECURE_NAMES = cookie_names(True)
PLAIN_NAMES = cookie_names(False)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def http_date(when: dt.datetime) -> str:
    """RFC 7231 IMF-fixdate, e.g. ``Fri, 25 Dec 2026 13:08:54 GMT`` (locale-free)."""
    t = when.astimezone(dt.UTC)
    return (
        f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} GMT"
    )


def serialize(
    name: str,
    value: str,
    *,
    secure: bool,
    max_age: int | None = None,
    expires: dt.datetime | None = None,
    same_site: str = "Lax",
    http_only: bool = True,
    path: str = "/",
) -> str:
    """One ``Set-Cookie`` header value, attributes in Auth.js's order."""
    parts = [f"{name}={quote(value, safe=_ENCODE_SAFE)}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    parts.append(f"Path={path}")
    if expires is not None:
        parts.append(f"Expires={http_date(expires)}")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    if same_site:
        parts.append(f"SameSite={same_site}")
    return "; ".join(parts)


def deletion(name: str, *, secure: bool, same_site: str = "Lax") -> str:
    """The header that removes cookie ``name`` (empty value, ``Max-Age=0``)."""
    return serialize(name, "", secure=secure, max_age=0, same_site=same_site)


def parse_header(header: str) -> dict[str, str]:
    """The ``Cookie`` request header as a dict (first occurrence of a name wins).

    As the ``cookie`` npm package that Auth.js uses parses it: pairs split on
    ``;`` and the first ``=``, surrounding double quotes dropped, malformed
    pairs skipped. Values stay percent-encoded; :func:`read` decodes them.
    """
    result: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        if not sep:
            continue
        name = name.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name and name not in result:
            result[name] = value
    return result


def decode_value(raw: str) -> str:
    """Percent-decode a cookie value (strictly: invalid UTF-8 raises)."""
    if "%" not in raw:  # a JWE or a plain token: nothing to decode
        return raw
    return unquote(raw, errors="strict")


def read(cookies: Mapping[str, str], name: str) -> str | None:
    """A request cookie's value, percent-decoded; ``None`` when absent or empty."""
    raw = cookies.get(name)
    if not raw:
        return None
    return decode_value(raw)


def _is_chunk(key: str, name: str) -> bool:
    """Whether cookie ``key`` is ``<name>.<n>``, n being one to three ASCII digits."""
    index = key[len(name) + 1 :]
    return (
        key.startswith(name + ".")
        and 0 < len(index) <= 3
        and index.isascii()
        and index.isdigit()
    )


class SessionStore:
    """The (possibly chunked) session-token cookie of one request.

    ``value`` re-assembles what the browser sent; :meth:`set` and
    :meth:`clear` return the ``Set-Cookie`` headers that replace or remove
    it, deleting chunk names that the new value no longer uses.
    """

    __slots__ = ("name", "present", "secure")

    def __init__(self, name: str, cookies: Mapping[str, str], *, secure: bool) -> None:
        self.name = name
        self.secure = secure
        found: dict[str, str] = {}
        for key, raw in cookies.items():
            if raw and (key == name or _is_chunk(key, name)):
                found[key] = raw
        self.present = found

    @property
    def value(self) -> str | None:
        numbered = sorted(
            (
                (int(k.rsplit(".", 1)[1]), v)
                for k, v in self.present.items()
                if k != self.name
            ),
            key=lambda item: item[0],
        )
        if len(numbered) > MAX_CHUNKS:
            return None
        # Chunks, when there are any, win over an unsuffixed cookie.
        raw = "".join(v for _, v in numbered) or self.present.get(self.name)
        if not raw:
            return None
        try:
            return decode_value(raw)
        except UnicodeDecodeError:
            return None

    def set(self, value: str, *, expires: dt.datetime) -> list[str]:
        if len(value) <= CHUNK_SIZE:
            chunks = {self.name: value}
        else:
            chunks = {
                f"{self.name}.{i}": value[start : start + CHUNK_SIZE]
                for i, start in enumerate(range(0, len(value), CHUNK_SIZE))
            }
        headers = []
        for name in self.present:
            if name not in chunks:  # a chunk the new value no longer uses
                headers.append(deletion(name, secure=self.secure))
        for name, chunk in chunks.items():
            headers.append(serialize(name, chunk, secure=self.secure, expires=expires))
        return headers

    def clear(self) -> list[str]:
        return [deletion(n, secure=self.secure) for n in self.present]

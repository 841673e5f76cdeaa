"""Nothing a client sends reaches a 5xx, on any route of the site (issue 9, item 10).

A property test against a real waitress server: each example is one raw
HTTP/1.1 request written byte by byte to a socket (so paths, queries and
headers can hold what ``requests`` would refuse or re-encode): any method,
every route of the site with percent-garbage or non-ASCII appended, query
strings and ``callbackUrl`` values with Unicode paths and internationalised
hosts, random or form or JSON bodies under odd content types and charsets,
odd ``Host`` and forwarding headers, huge headers, random cookies. Most
requests are odd in a few respects only and carry a valid CSRF pair and a
signed-in session cookie, so they get past the server and the CSRF checks
into the views' parsing and validation. ``known_cases`` adds the inputs the
issue names.

The answer must be below 500, and nothing may be logged at ERROR (a view
that caught a failure and hid it behind a redirect still logged it).

Known failures until the core's fix lands (the core's redirects put a
``callbackUrl`` into ``Location`` unencoded; a character outside Latin-1
cannot be sent, so waitress answers 500): ``POST /api/auth/signout``,
``POST /api/auth/callback/credentials`` and ``POST /signup`` (which signs in
through the core) with ``callbackUrl`` = ``/pfad/€ő😀`` or the same path on
the site's own origin.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.functional.registration.helpers import GOOD_PASSWORD

pytestmark = pytest.mark.live

ROUTES = [
    "/",
    "/members",
    "/signup",
    "/signup/check-email",
    "/account/verify",
    "/account/verify/resend",
    "/account/reset",
    "/account/reset/confirm",
    "/account",
    "/account/password",
    "/account/email",
    "/account/email/confirm",
    "/account/methods",
    "/account/methods/unlink",
    "/account/delete",
    "/account/deleted",
    "/static/site.css",
    "/api/auth",
    "/api/auth/providers",
    "/api/auth/session",
    "/api/auth/csrf",
    "/api/auth/signin",
    "/api/auth/signin/credentials",
    "/api/auth/signin/email",
    "/api/auth/signin/nope",
    "/api/auth/signout",
    "/api/auth/callback/credentials",
    "/api/auth/callback/email",
    "/api/auth/callback/nope",
    "/api/auth/verify-request",
    "/api/auth/error",
    "/api/auth/webauthn-options",
]
FORM = "application/x-www-form-urlencoded"
EMAIL = "hostile.tester@example.com"
METHODS = [b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS"]
FIELDS = [
    "callbackUrl",
    "error",
    "code",
    "token",
    "email",
    "name",
    "password",
    "password_confirm",
    "username",
    "csrfToken",
    "csrf_token",
    "provider",
    "type",
    "current_password",
    "account",
]
NASTY_URLS = [
    "http://bücher.example/ü",
    "https://xn--bcher-kva.example/",
    "/pfad/ünïcödé?q=ä",
    "/\u202e/evil",
    "//evil.example/%0d%0a",
    "http://127.0.0.1:99999/",
    "http://[::1/",
    "javascript:alert(1)",
    "/%FF%FE",
    "/a\u2028b",
    "\U0001f600",
]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=x-unknown",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=",
    "multipart/form-data",
    "multipart/form-data; boundary=b",
    "multipart/form-data; boundary=" + "b" * 200,
    "application/json",
    "application/json; charset=latin-1",
    "text/plain; charset=ütf",
    "text/html",
    "",
    ";;;",
]
HOSTS = [
    "127.0.0.1",
    "localhost:1",
    "evil.example",
    "bücher.example",
    "xn--bcher-kva.example",
    "",
    "a" * 300,
    "[::1",
    "host:99999",
    "bad host",
    "\xff\xfe",
]

SAFE_BYTES = st.binary(max_size=200).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b" ", b"")
)
HEADER_BYTES = st.binary(max_size=200).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"")
)
TEXT = st.one_of(st.text(max_size=80), st.sampled_from(NASTY_URLS))


def _encoded_text(value: str) -> bytes:
    return quote(value, safe="").encode()


VALUE = st.one_of(TEXT.map(_encoded_text), TEXT.map(lambda t: t.encode()), SAFE_BYTES)
PAIRS = st.lists(
    st.tuples(st.sampled_from(FIELDS).map(str.encode), VALUE), max_size=5
).map(lambda pairs: b"&".join(name + b"=" + value for name, value in pairs))
SUFFIX = st.one_of(
    st.just(b""),
    SAFE_BYTES.map(lambda b: b"/" + b),
    TEXT.map(lambda t: b"/" + _encoded_text(t)),
    st.sampled_from([b"/%FF", b"/%C0%AF", b"/..%2F..", b"/%00", b"/\xc3\xbc", b"//x"]),
)


@dataclass(frozen=True)
class Secrets:
    """Valid credentials a request may carry, to get past CSRF checks."""

    host: str  # the server's own host:port
    email: str  # the signed-in account's address (its password: GOOD_PASSWORD)
    cookies: str  # the core's CSRF cookie, the site's CSRF cookie, a session
    auth_csrf: str
    site_csrf: str


def _body(secrets: Secrets):
    valid_pairs = PAIRS.map(
        lambda body: (
            f"csrfToken={secrets.auth_csrf}&csrf_token={secrets.site_csrf}&".encode()
            + body
        )
    )
    json_body = st.dictionaries(
        st.sampled_from(FIELDS), st.one_of(TEXT, st.integers(), st.none()), max_size=4
    ).map(lambda d: json.dumps({**d, "csrfToken": secrets.auth_csrf}))
    return st.one_of(
        valid_pairs,
        valid_pairs,  # twice: forms that pass their CSRF check are the point
        PAIRS,
        json_body.map(str.encode),
        st.binary(max_size=300),
    )


def _rarely(draw) -> bool:
    """True one time in four: most requests look ordinary in all but one
    respect, so they get past the server into the app's code."""
    return draw(st.integers(0, 3)) == 0


@st.composite
def hostile_request(draw, secrets: Secrets) -> bytes:
    method = draw(st.sampled_from([b"GET", b"POST"]))
    if _rarely(draw):
        method = draw(st.sampled_from(METHODS))
    target = draw(st.sampled_from(ROUTES)).encode()
    if _rarely(draw):
        target += draw(SUFFIX)
    query = draw(st.one_of(st.just(b""), PAIRS, SAFE_BYTES))
    if query:
        target += b"?" + query
    host = secrets.host.encode()
    if _rarely(draw):
        host = draw(st.one_of(st.sampled_from(HOSTS).map(_latin1), HEADER_BYTES))
    headers = [(b"Host", host)]
    cookie = secrets.cookies.encode()
    if _rarely(draw):
        cookie = draw(st.one_of(HEADER_BYTES, st.just(b"")))
    if cookie:
        headers.append((b"Cookie", cookie))
    for name in (b"X-Forwarded-Host", b"X-Forwarded-Proto", b"Accept", b"Origin"):
        if _rarely(draw):
            value = draw(st.one_of(st.sampled_from(HOSTS).map(_latin1), HEADER_BYTES))
            headers.append((name, value))
    if _rarely(draw):
        size = draw(st.sampled_from([9_000, 60_000]))
        headers.append((b"X-Padding", b"p" * size))
    body = b""
    if method in (b"POST", b"PUT") or _rarely(draw):
        body = draw(_body(secrets))
        content_type = CONTENT_TYPES[0]
        if _rarely(draw):
            content_type = draw(
                st.one_of(st.sampled_from(CONTENT_TYPES), st.text(max_size=40))
            )
        headers.append((b"Content-Type", _latin1(content_type, errors="replace")))
    return compose(method, target, headers, body)


def compose(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> bytes:
    """An HTTP/1.1 request as bytes on the wire, one per connection."""
    headers = [
        *headers,
        (b"Content-Length", str(len(body)).encode()),
        (b"Connection", b"close"),
    ]
    head = b"\r\n".join(
        [method + b" " + target + b" HTTP/1.1"] + [k + b": " + v for k, v in headers]
    )
    return head + b"\r\n\r\n" + body


def known_cases(secrets: Secrets) -> list[bytes]:
    """The inputs the issue names, with valid CSRF pairs so they reach the code:
    an unknown charset on signup, and non-ASCII callback URLs (a Unicode path
    on this origin, an internationalised host) that the sign-out, a sign-in
    and a signup redirect to."""
    own = f"http://{secrets.host}"
    unicode_urls = [f"{own}/pfad/ünï€", "/pfad/€ő\U0001f600", "http://bücher.example/ő"]

    def post(path: str, fields: dict[str, str], content_type: str = FORM) -> bytes:
        body = "&".join(f"{k}={quote(v, safe='')}" for k, v in fields.items())
        return compose(
            b"POST",
            path.encode(),
            [
                (b"Host", secrets.host.encode()),
                (b"Cookie", secrets.cookies.encode()),
                (b"Content-Type", content_type.encode()),
            ],
            body.encode(),
        )

    cases = [
        post(
            "/signup",
            {"csrf_token": secrets.site_csrf, "email": "x@example.com"},
            f"{FORM}; charset=x-unknown",
        )
    ]
    for n, url in enumerate(unicode_urls):
        auth = {"csrfToken": secrets.auth_csrf, "callbackUrl": url}
        cases += [
            post("/api/auth/signout", auth),
            post(
                "/api/auth/callback/credentials",
                {**auth, "email": secrets.email, "password": GOOD_PASSWORD},
            ),
            post(
                "/signup",
                {
                    "csrf_token": secrets.site_csrf,
                    "callbackUrl": url,
                    "email": f"unicode.{n}@example.com",
                    "password": GOOD_PASSWORD,
                    "password_confirm": GOOD_PASSWORD,
                },
            ),
            compose(
                b"GET",
                b"/api/auth/signin?callbackUrl=" + quote(url, safe="").encode(),
                [(b"Host", secrets.host.encode())],
            ),
        ]
    return cases


def _latin1(text: str, errors: str = "strict") -> bytes:
    """Header text as bytes on the wire (non-Latin-1 as UTF-8, as clients do)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors)


_STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3})")


def send(port: int, request: bytes) -> int:
    """Write ``request`` to the server and return the status of its answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    match = _STATUS.match(answer)
    assert match, f"no HTTP answer: {answer[:200]!r}"
    return int(match.group(1))


@pytest.fixture
def server(live_server, smtp_server):
    return live_server(auth__providers="email")


@pytest.fixture
def secrets(server) -> Secrets:
    """A signed-up, signed-in browser's cookies and both CSRF tokens."""
    browser = requests.Session()
    page = browser.get(f"{server.url}/signup", timeout=30)
    site_csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    browser.post(
        f"{server.url}/signup",
        data={
            "csrf_token": site_csrf,
            "email": EMAIL,
            "password": GOOD_PASSWORD,
            "password_confirm": GOOD_PASSWORD,
        },
        timeout=30,
    )
    auth_csrf = browser.get(f"{server.url}/api/auth/csrf", timeout=30).json()[
        "csrfToken"
    ]
    assert browser.get(f"{server.url}/api/auth/session", timeout=30).json()["user"]
    cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    return Secrets(
        host=f"127.0.0.1:{server.port}",
        email=EMAIL,
        cookies=cookies,
        auth_csrf=auth_csrf,
        site_csrf=site_csrf,
    )


@pytest.mark.slow
def test_hostile_requests_never_get_a_5xx(server, secrets, caplog):
    caplog.set_level(logging.INFO)

    def check(request: bytes) -> None:
        caplog.clear()
        status = send(server.port, request)
        errors = [
            f"{r.name}: {r.getMessage()}"
            for r in caplog.records
            if r.levelno >= logging.ERROR
        ]
        assert status < 500, request[:300]
        assert errors == [], (request[:300], errors)

    for case in known_cases(secrets):
        check = example(request=case)(check)
    settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )(given(request=hostile_request(secrets))(check))()

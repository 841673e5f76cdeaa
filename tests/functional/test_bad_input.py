"""Bad input never reaches a 500 (issue 3, item 7).

Every case gets Auth.js's answer, a 4xx page or a redirect, and the log says
why. Bytes that are not UTF-8 go into the WSGI environ by hand (PEP 3333
strings are latin-1 decoded bytes), the way a real server hands them over.
"""

from __future__ import annotations

import io
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth.jwt import JWTCodec, b64url
from tests.conftest import TEST_SECRET
from tests.functional.support import (
    CREDENTIALS,
    PASSWORD,
    PROVIDER,
    cookie_header,
    csrf_token,
    is_deletion,
    set_cookie_headers,
    set_cookies,
    sign_in,
)

pytestmark = pytest.mark.no_database

SESSION = "authjs.session-token"
CALLBACK = f"/api/auth/callback/{PROVIDER}"
SIGNIN = "http://localhost/api/auth/signin"
MISSING_CSRF = f"{SIGNIN}?error=MissingCSRF"


@pytest.fixture
def app(make_app):
    return make_app(**CREDENTIALS)


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def raw(text: bytes) -> str:
    """Bytes as a WSGI environ string carries them."""
    return text.decode("latin-1")


def request(
    app,
    path: str = "/",
    *,
    method: str = "GET",
    cookie: bytes | None = None,
    query: bytes | None = None,
    body: bytes | None = None,
    content_type: str = "application/x-www-form-urlencoded",
    **environ,
):
    """A request with raw bytes in the cookie, query and body."""
    env = dict(environ)
    if cookie is not None:
        env["HTTP_COOKIE"] = raw(cookie)
    if query is not None:
        env["QUERY_STRING"] = raw(query)
    if body is not None:
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        env["CONTENT_TYPE"] = content_type
    return app.request(path, method=method, environ=env, expect_errors=True)


def assert_not_5xx(response) -> None:
    assert response.status_int < 500, response


def errors_logged(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def signed_out_everywhere(app, cookie: bytes | str) -> None:
    """The cookie is treated as no session: null + cleared, pages signed out."""
    cookie = cookie.encode("latin-1") if isinstance(cookie, str) else cookie
    session = request(app, "/api/auth/session", cookie=cookie)
    assert session.status_int == 200
    assert session.body == b"null"
    home = request(app, "/", cookie=cookie)
    assert home.status_int == 200 and "You are not signed in." in home.text
    members = request(app, "/members", cookie=cookie)
    assert members.status_int == 302 and members.location.startswith(SIGNIN)
    return session


def valid_token(**claims) -> str:
    return JWTCodec([TEST_SECRET]).encode(
        {"sub": "1", "name": "Alice", **claims}, salt=SESSION, max_age=3600
    )


# session cookies ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "a.b.c.d.e",
        "....",
        "eyJhbGciOiJkaXIifQ....",
        "%",
        "%zz",
        "%FF%FE",
        '"quoted"',
        "x" * 5000,
        b64url(b'{"alg":"dir","enc":["A256GCM"]}') + "..AA.AA.AA",
        b64url(b'{"alg":"dir","enc":"A256CBC-HS512","kid":{"a":1}}') + "..AA.AA.AA",
        b64url(b"[]") + "..AA.AA.AA",
        b64url(b"\xff\xfe") + "..AA.AA.AA",
    ],
    ids=[
        "word",
        "dots-words",
        "dots",
        "alg-only",
        "percent",
        "bad-percent",
        "percent-non-utf8",
        "quoted",
        "long",
        "enc-list",
        "kid-object",
        "header-array",
        "header-non-utf8",
    ],
)
def test_malformed_session_cookie_is_signed_out_and_logged(app, log, value):
    session = signed_out_everywhere(app, f"{SESSION}={value}")

    assert is_deletion(set_cookies(session)[SESSION])
    assert "session cookie" in log.text
    assert errors_logged(log) == []


def test_truncated_session_cookie_is_signed_out(app, log):
    token = valid_token()

    session = signed_out_everywhere(app, f"{SESSION}={token[: len(token) // 2]}")

    assert is_deletion(set_cookies(session)[SESSION])
    assert "session cookie rejected" in log.text


def test_session_cookie_with_its_tag_cut_is_signed_out(app):
    token = valid_token()

    signed_out_everywhere(app, f"{SESSION}={token[:-10]}")


def test_tampered_session_cookie_is_signed_out(app, log):
    token = valid_token()
    head, ek, iv, ciphertext, tag = token.split(".")
    flipped = "A" if ciphertext[5] != "A" else "B"
    tampered = ".".join([head, ek, iv, ciphertext[:5] + flipped + ciphertext[6:], tag])

    signed_out_everywhere(app, f"{SESSION}={tampered}")

    assert "session cookie rejected" in log.text


def test_twenty_chunks_are_too_many_and_all_get_cleared(app, log):
    chunks = [(f"{SESSION}.{i}", "x" * 3936) for i in range(20)]

    session = signed_out_everywhere(app, cookie_header(chunks))

    deleted = {
        h.split("=", 1)[0] for h in set_cookie_headers(session) if is_deletion(h)
    }
    assert deleted == {name for name, _ in chunks}
    assert "session cookie" in log.text


def test_single_oversized_session_cookie_is_signed_out(app, log):
    signed_out_everywhere(app, f"{SESSION}={'y' * 70_000}")

    assert "oversized" in log.text


def test_chunks_with_a_gap_are_signed_out(app):
    token = valid_token(blob="z" * 7000)
    assert len(token) > 2 * 3936
    chunks = [(f"{SESSION}.0", token[:3936]), (f"{SESSION}.2", token[2 * 3936 :])]

    signed_out_everywhere(app, cookie_header(chunks))


def test_expired_session_cookie_is_signed_out_and_logged(app, log):
    token = JWTCodec([TEST_SECRET]).encode(
        {"sub": "1"}, salt=SESSION, max_age=10, now=1_000_000_000
    )

    signed_out_everywhere(app, f"{SESSION}={token}")

    assert "expired" in log.text


def test_session_cookie_with_non_utf8_bytes_is_signed_out(app):
    signed_out_everywhere(app, SESSION.encode() + b"=\xff\xfe\x80abc")


def test_session_cookie_decrypting_to_non_json_is_signed_out(app):
    from joserfc import jwe
    from joserfc.jwk import OctKey

    from app.auth.jwt import derive_key, thumbprint

    key = derive_key(TEST_SECRET, SESSION)
    token = jwe.encrypt_compact(
        {"alg": "dir", "enc": "A256CBC-HS512", "kid": thumbprint(key)},
        b"\xff not json",
        OctKey.import_key(key),
        registry=jwe.JWERegistry(algorithms=["dir", "A256CBC-HS512"]),
    )

    signed_out_everywhere(app, f"{SESSION}={token}")


# other cookies ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cookie",
    [
        b"authjs.csrf-token=\xff|\xfe",
        b"authjs.csrf-token=%FF%7C%FE",
        b"authjs.csrf-token=|",
        b"authjs.csrf-token=" + b"a" * 10_000,
        b"authjs.callback-url=\xff\xfe",
        b"authjs.callback-url=javascript%3Aalert(1)",
        b"authjs.callback-url=%FF",
        b"authjs.callback-url=http%3A%2F%2Fa%0D%0Ab",
        b"\xff=\xfe; =; ;;; a",
        b"authjs.session-token.\xff=1",
    ],
    ids=[
        "csrf-non-utf8",
        "csrf-bad-percent",
        "csrf-bar",
        "csrf-huge",
        "cb-non-utf8",
        "cb-javascript",
        "cb-bad-percent",
        "cb-crlf",
        "junk",
        "chunk-non-utf8",
    ],
)
def test_bad_csrf_and_callback_url_cookies_are_replaced(app, cookie, log):
    response = request(app, "/api/auth/session", cookie=cookie)
    page = request(app, "/api/auth/signin", cookie=cookie)
    post = request(
        app, "/api/auth/signout", method="POST", cookie=cookie, body=b"csrfToken=x"
    )

    assert response.status_int == 200 and response.body == b"null"
    assert page.status_int == 200
    assert post.status_int == 302 and post.location == MISSING_CSRF
    assert errors_logged(log) == []


def test_javascript_callback_url_cookie_is_ignored_for_the_origin(app, log):
    response = request(
        app, "/api/auth/signin", cookie=b"authjs.callback-url=javascript%3Aalert(1)"
    )

    form = next(iter(response.forms.values()), None)
    assert response.status_int == 200
    assert "javascript" not in response.text
    assert form is None or form["callbackUrl"].value == "http://localhost"
    assert "invalid callback-url cookie ignored" in log.text


# query strings ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        b"callbackUrl=\xff\xfe&error=\xff",
        b"error=%FF%FE&code=%C3",
        b"\xff\xfe\xfd",
        b"%",
        b"&&&==&",
        b"error=" + b"E" * 20_000,
        b"email=%FF",
    ],
    ids=[
        "raw-bytes",
        "bad-percent",
        "only-bytes",
        "lone-percent",
        "separators",
        "huge",
        "email",
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/signin",
        "/api/auth/session",
        "/api/auth/csrf",
        "/api/auth/error",
        "/api/auth/signout",
        "/api/auth/verify-request",
        "/",
    ],
)
def test_non_utf8_and_junk_query_strings_are_answered(app, log, path, query):
    response = request(app, path, query=query)

    assert_not_5xx(response)
    assert errors_logged(log) == []


def test_too_many_query_fields_is_400(app, log):
    query = "&".join(f"f{i}=1" for i in range(500)).encode()

    response = request(app, "/api/auth/signin", query=query)

    assert response.status_int == 400
    assert "too many fields" in log.text


# paths --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/%FF",
        "/api/auth/signin/%FF",
        "/api/auth/callback/%FF%FE",
        "/%FF",
        "/members/%C3",
        "/api/auth/signin/%C0%AF",
    ],
)
def test_non_utf8_path_is_a_400_page(app, log, path):
    response = app.get(path, expect_errors=True)
    posted = app.post(path, expect_errors=True)

    assert response.status_int == 400
    assert posted.status_int == 400
    assert "bad request" in log.text
    assert errors_logged(log) == []


def test_raw_non_utf8_path_bytes_are_a_400_page(app):
    response = request(app, "/", PATH_INFO=raw(b"/api/auth/\xff\xfe"))

    assert response.status_int == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/signin/" + "p" * 5000,
        "/api/auth/callback/..%2F..%2Fetc",
        "/api/auth/signin/%00",
        "/api/auth/callback/%20",
        "/api/auth/signin/a%2Fb",
    ],
)
def test_strange_provider_ids_are_not_server_errors(app, path):
    token = csrf_token(app)

    assert_not_5xx(app.get(path, expect_errors=True))
    assert_not_5xx(app.post(path, {"csrfToken": token}, expect_errors=True))


# bodies -------------------------------------------------------------------------------
def test_non_utf8_form_body_is_read_with_replacement(app, log):
    token = csrf_token(app)
    body = b"csrfToken=" + token.encode() + b"&username=\xff\xfe&password=%FF"

    response = app.post(
        CALLBACK, body, content_type="application/x-www-form-urlencoded"
    )

    assert response.location == f"{SIGNIN}?error=CredentialsSignin&code=credentials"
    assert errors_logged(log) == []


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/octet-stream",
        "",
    ],
)
def test_other_content_types_carry_no_body_so_no_csrf_token(app, content_type):
    token = csrf_token(app)
    body = f"csrfToken={token}&username=alice&password={PASSWORD}".encode()
    cookies = cookie_header({c.name: c.value for c in app.cookiejar})

    response = request(
        app,
        CALLBACK,
        method="POST",
        body=body,
        content_type=content_type,
        HTTP_COOKIE=cookies,
    )

    assert response.status_int == 302
    assert response.location == MISSING_CSRF


@pytest.mark.database
def test_wrong_content_type_on_session_update_is_400_null(app):
    sign_in(app)
    token = csrf_token(app)

    response = app.post(
        "/api/auth/session",
        f'{{"csrfToken":"{token}"}}',
        content_type="text/plain",
        expect_errors=True,
    )

    assert response.status_int == 400
    assert response.body == b"null"


@pytest.mark.database
def test_json_content_type_with_charset_is_still_json(app):
    token = csrf_token(app)

    response = app.post(
        CALLBACK,
        f'{{"csrfToken":"{token}","username":"alice","password":"{PASSWORD}"}}',
        content_type="application/json; charset=utf-8",
    )

    assert response.status_int == 302
    assert SESSION in set_cookies(response)


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"{'csrfToken': 1}",
        b"[1, 2]",
        b"null",
        b'"string"',
        b"\xff\xfe",
        b"[" * 60_000,
        b'{"csrfToken": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"csrfToken": "\\ud800"}',
        b'{"csrfToken": 123}',
        b'{"csrfToken": NaN}',
    ],
    ids=[
        "open",
        "single-quotes",
        "array",
        "null",
        "string",
        "non-utf8",
        "deep",
        "deep-value",
        "lone-surrogate",
        "number",
        "nan",
    ],
)
def test_invalid_json_is_no_body(app, log, body):
    csrf_token(app)

    response = app.post(CALLBACK, body, content_type="application/json")
    update = app.post(
        "/api/auth/session", body, content_type="application/json", expect_errors=True
    )

    assert response.location == MISSING_CSRF
    assert update.status_int == 400 and update.body == b"null"
    assert errors_logged(log) == []


def test_unparsable_json_is_logged(app, log):
    app.post(CALLBACK, b"{", content_type="application/json")

    assert "unparsable JSON body" in log.text


def test_form_body_over_64_kib_is_413(app, log):
    token = csrf_token(app)
    body = f"csrfToken={token}&username=alice&password=".encode() + b"x" * (64 * 1024)

    response = app.post(
        CALLBACK,
        body,
        content_type="application/x-www-form-urlencoded",
        expect_errors=True,
    )

    assert response.status_int == 413
    assert "too large" in log.text


@pytest.mark.parametrize(
    "path",
    [
        CALLBACK,
        "/api/auth/session",
        "/api/auth/signout",
        f"/api/auth/signin/{PROVIDER}",
    ],
)
def test_huge_json_body_is_413_on_every_post(app, path):
    body = b'{"csrfToken": "' + b"a" * (70 * 1024) + b'"}'

    response = app.post(path, body, content_type="application/json", expect_errors=True)

    assert response.status_int == 413


def test_body_that_lies_about_its_length_is_still_capped(app):
    body = b"a=" + b"x" * (80 * 1024)

    response = request(app, CALLBACK, method="POST", body=body, CONTENT_LENGTH="10")

    assert_not_5xx(response)


@pytest.mark.database
def test_body_just_under_the_limit_is_read(app):
    token = csrf_token(app)
    prefix = f"csrfToken={token}&username=alice&password={PASSWORD}&pad=".encode()
    body = prefix + b"p" * (64 * 1024 - len(prefix))

    response = app.post(
        CALLBACK, body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_int == 302
    assert SESSION in set_cookies(response)


def test_too_many_form_fields_is_400(app, log):
    token = csrf_token(app)
    body = f"csrfToken={token}&" + "&".join(f"f{i}=v" for i in range(1000))

    response = app.post(
        CALLBACK,
        body,
        content_type="application/x-www-form-urlencoded",
        expect_errors=True,
    )

    assert response.status_int == 400
    assert "too many fields" in log.text


@pytest.mark.database
def test_many_fields_under_the_cap_are_fine(app):
    token = csrf_token(app)
    fields = {f"f{i}": "v" for i in range(150)}

    response = app.post(
        CALLBACK,
        {"csrfToken": token, "username": "alice", "password": PASSWORD, **fields},
    )

    assert SESSION in set_cookies(response)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"username": "alice"},
        {"password": PASSWORD},
        {"username": "", "password": ""},
        {"username": "alice", "password": "x" * 5000},
    ],
    ids=["nothing", "no-password", "no-username", "empty", "overlong-password"],
)
def test_missing_or_unusable_fields_are_credentials_signin(app, fields):
    token = csrf_token(app)

    response = app.post(CALLBACK, {"csrfToken": token, **fields})

    assert response.location == f"{SIGNIN}?error=CredentialsSignin&code=credentials"


@pytest.mark.database
def test_form_field_given_twice_last_value_wins(app):
    token = csrf_token(app)
    body = (
        f"csrfToken={token}&username=nobody&username=alice&password=x"
        f"&password={PASSWORD}"
    )

    response = app.post(
        CALLBACK, body, content_type="application/x-www-form-urlencoded"
    )

    assert SESSION in set_cookies(response)


def test_non_string_json_fields_are_not_handed_to_authorize(app):
    token = csrf_token(app)

    response = app.post_json(
        CALLBACK, {"csrfToken": token, "username": ["alice"], "password": {"x": 1}}
    )

    assert response.location == f"{SIGNIN}?error=CredentialsSignin&code=credentials"
    assert app.app.registry["test.authorize_calls"] == [{"csrfToken": token}]


# unknown providers --------------------------------------------------------------------
def test_unknown_providers_get_authjs_answers(app):
    token = csrf_token(app)

    assert app.post("/api/auth/signin/nope", {"csrfToken": token}).location.endswith(
        "error=Configuration"
    )
    assert app.get("/api/auth/signin/nope").location.endswith("error=Configuration")
    assert app.post("/api/auth/callback/nope", {"csrfToken": token}).location.endswith(
        "error=Configuration"
    )
    assert app.get("/api/auth/callback/nope").location.endswith("error=Configuration")


# callback URLs ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "http://",
        "http://[::1",
        "http://a b.example/",
        "/a\r\nSet-Cookie: x=1",
        "/a\nb",
        "/a\x00b",
        "/\\evil.example",
        "http://exa\tmple.com/",
    ],
    ids=[
        "javascript",
        "mixed-case",
        "leading-space",
        "data",
        "vbscript",
        "no-host",
        "bad-ipv6",
        "space-in-host",
        "crlf",
        "lf",
        "nul",
        "backslash",
        "tab",
    ],
)
def test_invalid_callback_url_query_is_400_on_purpose(app, log, value):
    # Auth.js answers 500 (InvalidCallbackUrl is a server configuration error
    # there); a client sent it, so this project answers 400.
    page = app.get(
        "/api/auth/signin", params={"callbackUrl": value}, expect_errors=True
    )
    session = app.get(
        "/api/auth/session", params={"callbackUrl": value}, expect_errors=True
    )

    assert page.status_int == 400
    assert page.content_type == "text/html"
    assert "The callback URL is not valid." in page.text
    assert session.status_int == 400
    assert session.body == b'"Bad request."'
    assert "refused" in log.text
    for response in (page, session):
        assert not any("Set-Cookie: x" in h for h in set_cookie_headers(response))


def test_invalid_callback_url_query_on_a_post_is_400(app):
    token = csrf_token(app)

    response = app.post(
        f"{CALLBACK}?callbackUrl=javascript%3Aalert(1)",
        {"csrfToken": token, "username": "alice", "password": PASSWORD},
        expect_errors=True,
    )

    assert response.status_int == 400
    assert SESSION not in set_cookies(response)


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "/a\r\nSet-Cookie: x=1",
        "/a\r\nLocation: http://evil",
        "https://evil.example",
        "//evil.example/%0d%0a",
        "/\\evil.example",
        "\x00",
        "x" * 10_000,
    ],
    ids=[
        "javascript",
        "crlf-cookie",
        "crlf-location",
        "foreign",
        "slashes",
        "backslash",
        "nul",
        "huge",
    ],
)
@pytest.mark.database
def test_bad_callback_url_in_the_body_goes_to_a_safe_place(app, value):
    response = sign_in(app, callbackUrl=value)

    assert response.status_int == 302
    location = response.headers["Location"]
    assert location.startswith("http://localhost")
    assert "\r" not in location and "\n" not in location
    assert location in ("http://localhost", "http://localhost//evil.example/%0d%0a")


# the Host header ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "host",
    [
        "bad host!",
        "evil.example:port",
        "a@b.example",
        "<script>",
        "example.com:999999",
        "\xff\xfe",
        "x" * 300 + ".example",
        "",
    ],
    ids=[
        "space",
        "bad-port",
        "userinfo",
        "markup",
        "big-port",
        "non-ascii",
        "long",
        "empty",
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/session",
        "/api/auth/csrf",
        "/api/auth/signin",
        "/api/auth/providers",
        "/members",
        "/",
    ],
)
def test_bad_host_header_is_400_when_the_host_is_trusted(make_app, log, path, host):
    # In development (auth.url unset: the origin follows the request) such a
    # Host is refused at the door (app/dev_guard.py); through a trusted
    # X-Forwarded-Host it reaches the core, which cannot make an origin of it.
    app = make_app(**CREDENTIALS, auth__url="", app__env="development")

    direct = request(app, path, HTTP_HOST=host)
    forwarded = request(app, path, HTTP_X_FORWARDED_HOST=host or "\x00")

    # The home page too: it links a signed-out visitor to the sign-in page.
    assert direct.status_int == 400, direct
    assert "refused (auth.dev_hosts)" in log.text
    assert forwarded.status_int == 400, forwarded
    assert "bad Host header" in log.text
    assert errors_logged(log) == []


def test_bad_forwarded_host_is_400(make_app, log):
    app = make_app(**CREDENTIALS, auth__url="", app__env="development")

    response = app.get(
        "/api/auth/session",
        headers={"X-Forwarded-Host": "bad host!"},
        expect_errors=True,
    )

    assert response.status_int == 400
    assert "bad Host header" in log.text


def test_bad_host_header_does_not_matter_with_auth_url(make_app):
    app = make_app(
        **CREDENTIALS, auth__url="https://example.com", auth__trust_host="false"
    )

    response = request(app, "/api/auth/csrf", HTTP_HOST="bad host!")

    assert response.status_int == 200


# property: random bytes never produce a 5xx -------------------------------------------
ENDPOINTS = [
    ("GET", "/api/auth/session"),
    ("GET", "/api/auth/signin"),
    ("GET", "/api/auth/csrf"),
    ("GET", "/api/auth/error"),
    ("POST", CALLBACK),
    ("POST", "/api/auth/session"),
    ("POST", "/api/auth/signout"),
    ("POST", f"/api/auth/signin/{PROVIDER}"),
    ("GET", "/"),
    ("GET", "/members"),
]
SMALL_BYTES = st.binary(max_size=300)


def _pairs(names: list[bytes], separator: bytes):
    """Random bytes, or ``name=<random bytes>`` pairs with the names that matter."""
    pair = st.builds(lambda n, v: n + b"=" + v, st.sampled_from(names), SMALL_BYTES)
    return st.one_of(
        SMALL_BYTES,
        st.lists(pair, min_size=1, max_size=4).map(separator.join),
    )


COOKIE_BYTES = _pairs(
    [
        b"authjs.session-token",
        b"authjs.csrf-token",
        b"authjs.callback-url",
        b"authjs.session-token.0",
        b"authjs.session-token.1",
    ],
    b"; ",
)
FIELD_BYTES = _pairs(
    [
        b"callbackUrl",
        b"error",
        b"code",
        b"email",
        b"csrfToken",
        b"username",
        b"password",
        b"data",
    ],
    b"&",
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    cookie=COOKIE_BYTES,
    query=FIELD_BYTES,
    body=st.one_of(FIELD_BYTES, st.binary(max_size=300).map(lambda b: b"{" + b)),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "application/json", "text/plain"]
    ),
)
def test_random_bytes_never_produce_a_5xx(
    app, caplog, endpoint, cookie, query, body, content_type
):
    caplog.clear()
    method, path = endpoint

    response = request(
        app,
        path,
        method=method,
        cookie=cookie,
        query=query,
        body=body if method == "POST" else None,
        content_type=content_type,
    )

    assert_not_5xx(response)
    assert errors_logged(caplog) == [], [r.getMessage() for r in errors_logged(caplog)]

"""Reading the session, and what happens when the configuration is broken.

- GHSA-xmf8-cvqr-rfgj (CVE-2026-73418): ``getToken()`` threw on a malformed
  ``Authorization: Bearer`` header (percent-decoding before validating), so
  one request crashed the handler. This product reads sessions from cookies
  only; both the header and malformed session cookies must leave a request
  signed out, never a 5xx.
- GHSA-8fpg-xm3f-6cx3 (CVE-2026-73421): a configuration error (a provider
  missing its settings, no secret) made the session object an error object,
  which existence checks took for a signed-in user: the site failed open.
  Here a broken configuration stops start-up, and a failure at run time
  refuses the request; neither yields a session.
"""

# ruff: noqa: F811 - pytest fixtures imported from oauth_support

from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError
from webtest import TestApp

from tests.conftest import TEST_SECRET
from tests.functional.support import (
    CREDENTIALS,
    DB_CREDENTIALS,
    set_cookies,
    sign_in,
)
from tests.integration.oauth_support import (  # noqa: F401 - fixture
    Browser,
    closed_port,
    live_app,
    provider_settings,
)

SESSION = "authjs.session-token"
ROTATED_OUT = "an-old-secret-that-was-removed-0123456789abcdef"
SIGNED_OUT_PAGES = ("/", "/api/auth/signin", "/api/auth/csrf", "/api/auth/providers")


def _session_cookie(response) -> str:
    return set_cookies(response)[SESSION].split(";", 1)[0]


def assert_signed_out(app: TestApp, headers: dict[str, str]) -> None:
    """Every way of reading the session sees nobody, and nothing breaks."""
    session = app.get("/api/auth/session", headers=headers, expect_errors=True)
    assert session.status_int == 200, session
    assert session.json is None
    members = app.get("/members", headers=headers, expect_errors=True)
    assert members.status_int == 302, members
    assert members.location.startswith("http://localhost/api/auth/signin?")
    for path in SIGNED_OUT_PAGES:
        page = app.get(path, headers=headers, expect_errors=True)
        assert page.status_int < 500, (path, page)


# GHSA-xmf8-cvqr-rfgj -----------------------------------------------------------------
AUTHORIZATION_HEADERS = (
    "Bearer %E0%A4%A",
    "Bearer %",
    "Bearer %ZZ%",
    "Bearer " + "%FF" * 40,
    "Bearer ",
    "Bearer",
    "bearer a.b.c.d.e",
    "Bearer ....",
    "Bearer eyJhbGciOiJub25lIn0.e30.",
    "Bearer \u00e9\u00ff",
    "Basic %%%",
    "Bearer " + "A" * 20000,
)


@pytest.mark.parametrize("settings", [CREDENTIALS, DB_CREDENTIALS], ids=["jwt", "db"])
def test_a_malformed_authorization_header_reads_as_signed_out(make_app, settings):
    """GHSA-xmf8-cvqr-rfgj (CVE-2026-73418): malformed ``Bearer`` values.

    Without a session cookie each is signed out; beside a valid session
    cookie none changes who is signed in.
    """
    app = make_app(**settings)
    for value in AUTHORIZATION_HEADERS:
        assert_signed_out(app, {"Authorization": value})

    cookie = _session_cookie(sign_in(TestApp(app.app)))
    for value in AUTHORIZATION_HEADERS:
        headers = {"Authorization": value, "Cookie": cookie}
        session = app.get("/api/auth/session", headers=headers)
        assert session.json["user"]["name"], value
        assert app.get("/members", headers=headers).status_int == 200


MALFORMED_COOKIES = (
    f"{SESSION}=%E0%A4%A",
    f"{SESSION}=%",
    f"{SESSION}=%ZZ%",
    f'{SESSION}="',
    f"{SESSION}=a.b.c.d.e",
    f"{SESSION}=....",
    f"{SESSION}=eyJhbGciOiJub25lIn0.e30.",
    # a protected header whose "enc" and "kid" are lists, not strings
    f"{SESSION}=eyJhbGciOiJkaXIiLCJlbmMiOlsiQSJdLCJraWQiOlsiYSJdfQ.....",
    f"{SESSION}=\u00ff\u00fe",
    f"{SESSION}=" + "x" * 300,
    f"{SESSION}.0=%FF; {SESSION}.1=x",
    f"{SESSION}.99999999999999999999=x",
    f"{SESSION}.-1=x; {SESSION}.0=y",
)


@pytest.mark.parametrize("settings", [CREDENTIALS, DB_CREDENTIALS], ids=["jwt", "db"])
def test_a_malformed_session_cookie_reads_as_signed_out(make_app, settings):
    """GHSA-xmf8-cvqr-rfgj (CVE-2026-73418), through this product's own
    token reader: session cookies that are badly percent-encoded, not a JWE,
    forged, oversized or split into strange chunks."""
    app = make_app(**settings)
    for cookie in MALFORMED_COOKIES:
        assert_signed_out(app, {"Cookie": cookie})


# GHSA-8fpg-xm3f-6cx3 -----------------------------------------------------------------
@pytest.fixture
def no_secret_in_environment(monkeypatch):
    for name in ("AUTH_SECRET", "AUTH_SECRET_1", "AUTH_SECRET_2", "AUTH_SECRET_3"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("environment", ["production", "testing"])
@pytest.mark.parametrize("secret", ["", "too-short", "dev-only-" + "x" * 40])
@pytest.mark.no_database
def test_a_missing_or_weak_secret_stops_start_up(
    make_wsgi, no_secret_in_environment, tmp_path, environment, secret
):
    """GHSA-8fpg-xm3f-6cx3 (CVE-2026-73421): an unset ``AUTH_SECRET`` was one
    of the configuration errors that failed open. Outside development the
    site does not start, and the message names the setting. (Everything else
    a production start needs is given, so only the secret is wrong.)"""
    with pytest.raises(ConfigurationError, match=r"auth\.secret"):
        make_wsgi(
            app__env=environment,
            auth__secret=secret,
            auth__url="https://site.example",
            mail__queue_path=str(tmp_path / "mail-queue"),
        )


BROKEN_PROVIDERS = {
    # the advisory's example: an OIDC provider without its issuer
    "oidc without issuer": {
        "auth__provider__corp__type": "oidc",
        "auth__provider__corp__client_id": "id",
        "auth__provider__corp__client_secret": "secret",
    },
    "oidc on plain http": {
        "auth__provider__corp__type": "oidc",
        "auth__provider__corp__issuer": "http://sso.example.com",
        "auth__provider__corp__client_id": "id",
        "auth__provider__corp__client_secret": "secret",
    },
    "oidc without client id": {
        "auth__provider__corp__type": "oidc",
        "auth__provider__corp__issuer": "https://sso.example.com",
        "auth__provider__corp__client_secret": "secret",
    },
    "github without client secret": {
        "auth__provider__corp__type": "github",
        "auth__provider__corp__client_id": "id",
    },
    "unknown type": {"auth__provider__corp__type": "keycloak"},
    "credentials without authorize": {"auth__provider__corp__type": "credentials"},
}


@pytest.mark.parametrize("settings", BROKEN_PROVIDERS.values(), ids=BROKEN_PROVIDERS)
def test_a_misconfigured_provider_stops_start_up(make_wsgi, settings):
    """GHSA-8fpg-xm3f-6cx3 (CVE-2026-73421): a provider missing required
    settings is a start-up error naming the provider's settings, not a site
    that runs with a broken auth layer."""
    with pytest.raises(ConfigurationError, match=r"auth\.provider\.corp"):
        make_wsgi(auth__providers="corp", **settings)


@pytest.mark.no_database
def test_an_unreachable_provider_signs_nobody_in(live_app):
    """GHSA-8fpg-xm3f-6cx3 (CVE-2026-73421) at run time: the provider's
    configuration cannot be fetched. The attempt ends on the error page, no
    session cookie is issued, and the site stays signed out."""
    app = live_app(**provider_settings("corp", f"http://127.0.0.1:{closed_port()}"))
    browser = Browser(app.url)

    start = browser.post_signin("corp")

    assert start.headers["Location"] == f"{app.url}/api/auth/error?error=Configuration"
    assert SESSION not in start.headers.get("Set-Cookie", "")
    assert browser.session() is None
    members = browser.get(app.url + "/members")
    assert members.status_code == 302
    assert "/api/auth/signin" in members.headers["Location"]


def test_a_session_made_with_a_removed_secret_is_signed_out(make_app):
    """GHSA-8fpg-xm3f-6cx3 (CVE-2026-73421): the secret changed under a
    running session (a deploy replaced ``AUTH_SECRET``). The old cookie
    decodes to nothing: signed out and cleared, never an error object
    taken for a user. Kept in the rotation list, it still works."""
    old = make_app(**CREDENTIALS, auth__secret=ROTATED_OUT)
    cookie = _session_cookie(sign_in(old))

    replaced = make_app(**CREDENTIALS)
    assert_signed_out(replaced, {"Cookie": cookie})
    cleared = replaced.get("/api/auth/session", headers={"Cookie": cookie})
    assert set_cookies(cleared)[SESSION].startswith(f"{SESSION}=; Max-Age=0")

    rotated = make_app(**CREDENTIALS, auth__secret=f"{TEST_SECRET} {ROTATED_OUT}")
    assert rotated.get("/api/auth/session", headers={"Cookie": cookie}).json["user"]


def test_a_database_it_cannot_reach_shows_no_members_page(make_app):
    """GHSA-8fpg-xm3f-6cx3 (CVE-2026-73421) with database sessions: the
    database URL points where nothing answers. A valid session cookie then
    opens nothing: the members page and the session endpoint refuse."""
    cookie = _session_cookie(sign_in(make_app(**DB_CREDENTIALS)))
    broken = make_app(
        **DB_CREDENTIALS,
        sqlalchemy__url=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/x",
    )
    headers = {"Cookie": cookie}

    members = broken.get("/members", headers=headers, expect_errors=True)
    assert not 200 <= members.status_int < 300, members
    assert "Members area" not in members.text
    session = broken.get("/api/auth/session", headers=headers, expect_errors=True)
    assert session.status_int != 200 or session.json is None, session

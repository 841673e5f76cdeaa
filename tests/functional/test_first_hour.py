"""The first hour of a newcomer (issue "The first hour"): a taken port, the
"check your email" signposts, the core's pages, a failed sign-in, pshell.

Pages are read as HTML, the way a screen reader gets them: titles, labels,
legends, which field points at which message. The browser checks (axe,
keyboard) are in ``tests/browser/test_a11y.py`` and ``test_keyboard.py``.
"""

from __future__ import annotations

import configparser
import re
import socket
import subprocess
import sys
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import sqlalchemy as sa
from transaction.interfaces import NoTransaction
from webtest import TestApp

from tests.conftest import ROOT
from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
    link_to,
    signin,
    signup,
    unique_email,
)

SITE = {"app__env": "development", "auth__theme__brand_name": "Authsite"}


def html_attrs(page_text: str, element_id: str) -> str:
    """The attributes of the element with ``element_id`` (one tag)."""
    match = re.search(rf'<\w+[^>]*\bid="{re.escape(element_id)}"[^>]*>', page_text)
    assert match, f"no element #{element_id}"
    return match.group(0)


def title(page) -> str:
    return re.search(r"<title>([^<]*)</title>", page.text).group(1)


# make run on a taken port -------------------------------------------------------------
def write_ini(
    path: Path, settings: dict[str, str], listen: str, extra: str = ""
) -> Path:
    app = "\n".join(f"{k} = {v}" for k, v in settings.items())
    path.write_text(
        f"[app:main]\nuse = egg:authsite\n{app}\n\n"
        f"[server:main]\nuse = egg:waitress#main\nlisten = {listen}\n{extra}"
    )
    return path


@pytest.fixture
def busy_port():
    """A port something already listens on, as an earlier ``make run`` would."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def run_python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def assert_one_line_about(result, port: int, ini: Path) -> None:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert f"Port {port} is already in use" in line
    assert f"`listen = 127.0.0.1:{port}`" in line
    assert str(ini) in line
    assert f"`listen = 127.0.0.1:{port + 1}`" in line


def test_a_taken_port_is_one_line_saying_where_to_change_it(tmp_path, busy_port):
    ini = write_ini(tmp_path / "site.ini", {}, f"127.0.0.1:{busy_port}")

    check = run_python("-m", "app.serve", "--check", str(ini))
    run = run_python("-m", "app.serve", str(ini))

    for result in (check, run):
        assert_one_line_about(result, busy_port, ini)
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stdout == ""


def test_a_free_port_passes_the_check_silently(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ini = write_ini(tmp_path / "site.ini", {}, f"127.0.0.1:{port}")

    result = run_python("-m", "app.serve", "--check", str(ini))

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_port_taken_after_the_check_is_the_same_one_line(tmp_path, busy_port, db_url):
    """The server's own bind fails (a server started between check and serve):
    ``serve`` loads the app, waitress cannot bind, and the line still comes."""
    settings = {
        "app.env": "development",
        "sqlalchemy.url": db_url,
        "auth.secret": "x" * 40,
    }
    ini = write_ini(tmp_path / "site.ini", settings, f"127.0.0.1:{busy_port}")

    result = run_python(
        "-c", f"import sys, app.serve; sys.exit(app.serve.serve([{str(ini)!r}]))"
    )

    assert_one_line_about(result, busy_port, ini)


# "check your email" signposts ---------------------------------------------------------
@pytest.fixture
def site(make_app, tmp_path):
    """The site as in development: magic links, mail kept under /dev/mail."""
    return make_app(
        **SITE, auth__providers="email", mail__dev_maildir=str(tmp_path / "mail")
    )


def test_magic_link_page_names_the_address_and_links_the_dev_mailbox(site):
    page = site.get("/api/auth/signin")
    form = next(f for f in page.forms.values() if f.action.endswith("/signin/email"))
    form["email"] = "Fern@Example.com"

    sent = form.submit(status=302)
    check = sent.follow()

    assert parse_qs(urlsplit(sent.location).query)["email"] == ["fern@example.com"]
    assert "sent to <strong>fern@example.com</strong>" in check.text
    assert '<a href="/dev/mail">development mailbox</a>' in check.text
    assert title(check) == "Check your email · Authsite"


def test_optional_signup_lands_on_a_notice_naming_the_address_until_confirmed(
    make_app, tmp_path
):
    mail = tmp_path / "mail"
    browser = make_app(**SITE, mail__dev_maildir=str(mail))
    email = unique_email()

    home = signup(browser, email, status=302).follow()

    notice = home.html.select_one("#unconfirmed")
    assert notice is not None and notice["role"] == "status"
    assert f"follow the link we sent to {email}" in notice.get_text(" ", strip=True)
    assert notice.select_one('a[href="/dev/mail"]') is not None
    resend = browser.get(notice.select_one('a[href*="/account/verify/resend"]')["href"])
    assert resend.forms[0]["email"].value == email
    assert browser.get("/members").html.select_one("#unconfirmed") is not None

    message = message_from_bytes(
        next(mail.glob("*.eml")).read_bytes(), policy=email_policy.default
    )
    confirm = browser.get(link_to(message, "/account/verify"))
    confirm.forms[0].submit(status=200)

    assert browser.get("/").html.select_one("#unconfirmed") is None


def test_no_notice_for_a_confirmed_or_a_signed_out_person(site):
    assert site.get("/").html.select_one("#unconfirmed") is None
    assert site.get("/signup").html.select_one("#unconfirmed") is None


@pytest.mark.parametrize(
    "value", ["not an address", "a@b@example.com", "Call 555-0100", "\u00ff"]
)
def test_verify_request_names_only_an_address(site, value):
    page = site.get("/api/auth/verify-request", params={"email": value})

    assert "has been sent to your email address." in page.text
    assert "<strong>" not in page.text


def test_no_dev_mailbox_link_outside_development(make_app):
    page = make_app().get("/api/auth/verify-request", params={"email": "a@b.example"})

    assert "sent to <strong>a@b.example</strong>" in page.text
    assert "/dev/mail" not in page.text


def test_mandatory_signup_names_the_typed_address(make_app, tmp_path, smtp_server):
    browser = make_app(
        **SITE,
        registration__email_verification="mandatory",
        mail__dev_maildir=str(tmp_path / "mail"),
    )
    email = unique_email()

    page = signup(browser, email, status=303).follow()

    assert f"We sent a message to <strong>{email}</strong>" in page.text
    assert '<a href="/dev/mail">development mailbox</a>' in page.text


@pytest.mark.parametrize("value", ["not an address", "<script>x</script>"])
def test_check_email_names_only_an_address(testapp, value):
    page = testapp.get("/signup/check-email", params={"email": value})

    assert "We sent a message to the address you entered." in page.text
    assert "<strong>" not in page.text
    assert "<script>x" not in page.text


def test_check_email_with_a_query_that_is_not_utf8_is_still_the_page(testapp):
    page = testapp.get(
        "/signup/check-email", extra_environ={"QUERY_STRING": "email=\xff"}
    )

    assert "We sent a message to the address you entered." in page.text


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/account/reset", "If an account exists for <strong>{}</strong>"),
        (
            "/account/verify/resend",
            "If an account with <strong>{}</strong> is waiting for confirmation",
        ),
    ],
)
def test_link_sent_pages_name_the_typed_address(site, path, text):
    email = unique_email("nobody")
    form = site.get(path).forms[0]
    form["email"] = email

    page = form.submit()

    assert text.format(email) in page.text
    assert '<a href="/dev/mail">development mailbox</a>' in page.text


def test_members_sends_a_signed_out_person_to_sign_in_with_the_reason(testapp):
    page = testapp.get("/members", status=302).follow()

    assert (
        '<div class="notice" role="status"><p>Please sign in to access this page.'
        in page.text
    )
    assert title(page) == "Sign in"  # a notice, not an error
    assert 'role="alert"' not in page.text


def test_dev_mailbox_shows_when_each_message_was_written(make_app, tmp_path):
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "dated.eml").write_text(
        "Subject: Dated\nTo: a@example.com\nDate: Tue, 01 Dec 2026 09:30:00 +0000\n\n"
        "Open https://example.com/" + "x" * 300 + "\n"
    )
    (mail / "undated.eml").write_text("Subject: Undated\nTo: b@example.com\n\nhello\n")
    browser = make_app(**SITE, mail__dev_maildir=str(mail))

    listing = browser.get("/dev/mail")
    message = browser.get("/dev/mail/dated.eml")

    stamp = '<time datetime="2026-12-01T09:30:00+00:00">2026-12-01 09:30 UTC</time>'
    for page in (listing, message):
        assert f"To a@example.com · {stamp}" in page.text
    assert "To b@example.com</p>" in listing.text  # no date, no dangling "·"


# the core's pages ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/auth/signin", "Sign in · Authsite"),
        ("/api/auth/signout", "Sign out · Authsite"),
        ("/api/auth/verify-request", "Check your email · Authsite"),
        ("/api/auth/error?error=Verification", "Error: Unable to sign in · Authsite"),
        ("/api/auth/error", "Error · Authsite"),
        ("/api/auth/signin?error=OAuthAccountNotLinked", "Error: Sign in · Authsite"),
    ],
)
def test_every_core_page_is_titled_with_the_site_and_links_home(site, path, expected):
    page = site.get(path, expect_errors=True)

    assert title(page) == expected
    assert '<header class="brand"><a href="http://localhost/">Authsite</a>' in page.text


def test_sign_out_says_sign_out(site):
    page = site.get("/api/auth/signout")

    assert "<h1>Sign out</h1>" in page.text
    assert "Signout" not in page.text


def test_sign_in_methods_are_grouped_apart_with_an_or_between(site):
    page = site.get("/api/auth/signin")

    legends = re.findall(r"<legend>([^<]*)</legend>", page.text)
    assert legends == ["Email me a sign-in link", "Email and password"]
    assert page.text.count('<p class="or">or</p>') == 1
    # Each "Email" field sits in its own group, so a screen reader says which.
    for form in re.findall(r"<form.*?</form>", page.text, re.S):
        assert form.count("<fieldset>") == 1
        assert form.count('type="email"') == 1


# a failed sign-in ---------------------------------------------------------------------
@pytest.fixture
def account(site, smtp_server):
    email = unique_email()
    signup(site, email, status=302)
    return email


def test_failed_sign_in_keeps_the_email_and_points_the_fields_at_the_message(
    site, account
):
    refused = signin(TestApp(site.app), account, "not the right password")
    page = refused.follow()

    assert parse_qs(urlsplit(refused.location).query)["email"] == [account]
    assert title(page) == "Error: Sign in · Authsite"
    message = html_attrs(page.text, "error-for-credentials-provider")
    assert 'role="alert"' in message
    email_field = html_attrs(page.text, "input-email-for-credentials-provider")
    password_field = html_attrs(page.text, "input-password-for-credentials-provider")
    assert f'value="{account}"' in email_field
    for field in (email_field, password_field):
        assert 'aria-invalid="true"' in field
        assert 'aria-describedby="error-for-credentials-provider"' in field
    # The email is back: the password is what to type next, so it has the focus.
    assert "autofocus" in password_field
    assert page.text.count("autofocus") == 1
    # The magic-link form is not what failed.
    assert 'aria-invalid="true"' not in html_attrs(
        page.text, "input-email-for-email-provider"
    )


def test_unknown_and_known_addresses_both_come_back(site, account):
    """The address returns whether or not an account has it: no hint either way."""
    nobody = unique_email("nobody")

    for email in (account, nobody):
        refused = signin(TestApp(site.app), email, "not the right password")
        assert refused.location.endswith(
            f"?error=CredentialsSignin&email={quote(email)}&code=credentials"
        )


def test_a_successful_sign_in_after_a_failure_is_unchanged(site, account):
    browser = TestApp(site.app)
    signin(browser, account, "not the right password")

    assert signin(browser, account, GOOD_PASSWORD).location == "http://localhost"


# signup's error summary ---------------------------------------------------------------
def test_signup_error_summary_names_and_links_each_field_and_takes_focus(testapp):
    page = signup(testapp, "not-an-address", "password", confirm="other", status=400)

    summary = html_attrs(page.text, "error-summary")
    assert 'tabindex="-1"' in summary
    assert "autofocus" in summary
    assert page.text.count("autofocus") == 1
    assert title(page) == "Error: Create an account · Authsite"
    links = re.findall(r'<li><a href="#([\w-]+)">([^:<]+):', page.text)
    assert links == [("field-email", "Email"), ("field-password", "Password")]
    for target, _ in links:
        html_attrs(page.text, target)  # each link leads to its field


def test_skip_link_leads_to_the_content(testapp):
    page = testapp.get("/")

    assert re.search(
        r'<body>\s*<a class="skip-link" href="#content">Skip to content</a>', page.text
    )
    assert 'tabindex="-1"' in html_attrs(page.text, "content")


# pshell -------------------------------------------------------------------------------
@pytest.fixture
def shell_ini(tmp_path, app_settings) -> Path:
    """A temporary ini on the test database with development.ini's [pshell]."""
    shipped = configparser.ConfigParser(interpolation=None)
    shipped.read(ROOT / "development.ini")
    pshell = "".join(f"{k} = {v}\n" for k, v in shipped["pshell"].items())
    return write_ini(
        tmp_path / "shell.ini",
        app_settings,
        "127.0.0.1:0",
        extra=f"\n[pshell]\n{pshell}",
    )


def test_pshell_setup_gives_a_working_adapter_and_rolls_back(shell_ini, dbengine):
    from pyramid.paster import bootstrap

    from app import pshell
    from app.auth import IAdapter

    with bootstrap(str(shell_ini)) as env:
        with pytest.raises(NoTransaction):  # the shell without the setup
            env["request"].find_service(IAdapter).get_user("1")
        shell = pshell.setup(env)
        next(shell)
        adapter = env["adapter"]
        created = adapter.create_user("shell@example.com", name="Shell")
        assert adapter.get_user_by_email("shell@example.com") == created
        assert env["dbsession"].get(env["models"].User, int(created.id)).name == "Shell"
        assert env["models"].PasswordCredential.__tablename__
        shell.close()

    with dbengine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM users")).scalar() == 0


def test_pshell_as_shipped_answers_from_the_database(shell_ini):
    result = subprocess.run(
        [str(Path(sys.executable).with_name("pshell")), "-p", "python", str(shell_ini)],
        input="print('users:', adapter.get_user_by_email('nobody@example.com'))\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "users: None" in result.stdout
    assert "Traceback" not in result.stderr

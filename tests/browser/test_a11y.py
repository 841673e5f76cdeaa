"""axe-core on every page, in both colour schemes and at 320 px (WCAG 2.1 A/AA).

axe-core comes from npm (``make axe``, part of ``make test``; pinned in
package-lock.json) and is injected into each page as it stands. Any
violation of the WCAG 2.1 A/AA rules fails the test with axe's own account
of it. Two checks axe does not make are made here too: every visible input's
border keeps 3:1 against what is behind it (1.4.11 Non-text Contrast: the
border is all that shows a field), and nothing scrolls sideways at 320 px
(1.4.10 Reflow).

Each page is seen twice: light at 1280 px, and dark at 320 px (the colours
do not change with the width, so the two runs cover both schemes and the
narrow screen). One site serves all the pages (per test module and xdist
worker), on a SQLite file of its own: what is under test is the HTML and
CSS, not the database. A second site, with a tight limit, shows the 429
page. Browser contexts are shared per variant, to keep the run short.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import BrowserContext, Page

from app import main
from tests.browser.support import follow
from tests.conftest import BASE_SETTINGS, ROOT, LiveServer, bound_socket, migrate

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "a long and quiet river"
EMAIL = "reader@example.com"

VARIANTS = {
    "light": {"viewport": {"width": 1280, "height": 800}, "color_scheme": "light"},
    "dark-320px": {"viewport": {"width": 320, "height": 640}, "color_scheme": "dark"},
}

RUN_AXE = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary),
    }));
}"""
# Visible inputs whose border has less than 3:1 against the first opaque
# background behind them, as "#id: ratio".
WEAK_INPUT_BORDERS = """() => {
    const rgb = (css) => css.match(/[\\d.]+/g).map(Number);
    const luminance = (css) => {
        const [r, g, b] = rgb(css).slice(0, 3).map((v) => {
            v /= 255;
            return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const behind = (element) => {
        for (let e = element; e; e = e.parentElement) {
            const colour = getComputedStyle(e).backgroundColor;
            const alpha = rgb(colour)[3];
            if (alpha === undefined || alpha === 1) return colour;
        }
        return "rgb(255, 255, 255)";
    };
    return [...document.querySelectorAll("input:not([type=hidden])")]
        .filter((input) => input.getClientRects().length > 0)
        .map((input) => {
            const a = luminance(getComputedStyle(input).borderTopColor);
            const b = luminance(behind(input));
            const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
            return [input.id, ratio];
        })
        .filter(([, ratio]) => ratio < 3)
        .map(([id, ratio]) => `#${id}: ${ratio.toFixed(2)}`);
}"""


@dataclass
class Site:
    url: str
    maildir: Path
    cookies: list[dict]  # a signed-in browser's
    verify_url: str
    reset_url: str


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: `make axe` (part of `make test`) installs it")
    return AXE.read_text()


@contextmanager
def serve(directory: Path, **overrides: str) -> Iterator[LiveServer]:
    url = f"sqlite:///{directory / 'site.sqlite'}"
    migrate(url)
    sock = bound_socket()
    port = sock.getsockname()[1]
    settings = {
        **BASE_SETTINGS,
        "auth.url": f"http://127.0.0.1:{port}",
        "sqlalchemy.url": url,
        "app.env": "development",
        "auth.providers": "email",
        "auth.theme.brand_name": "Authsite",
        "mail.dev_maildir": str(directory / "mail"),
        **overrides,
    }
    wsgi = main({}, **settings)
    try:
        with LiveServer(wsgi, sock=sock) as server:
            yield server
    finally:
        wsgi.registry["db_engine"].dispose()


def form_token(client: requests.Session, url: str) -> str:
    page = client.get(url, timeout=10)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def newest_link(maildir: Path, path: str) -> str:
    """The link to ``path`` in the newest message that has one."""
    for eml in sorted(maildir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)[::-1]:
        with eml.open("rb") as fh:
            message = email.message_from_binary_file(fh, policy=email.policy.default)
        found = re.search(rf"http://\S+{re.escape(path)}\S*", message.get_content())
        if found:
            return found.group(0)
    raise AssertionError(f"no mail with a link to {path}")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    """The site, with an account signed up (its mailed links unused)."""
    directory = tmp_path_factory.mktemp("a11y")
    with serve(directory) as server:
        client = requests.Session()
        signup = f"{server.url}/signup"
        client.post(
            signup,
            data={
                "csrf_token": form_token(client, signup),
                "email": EMAIL,
                "password": PASSWORD,
                "password_confirm": PASSWORD,
            },
            timeout=30,
        ).raise_for_status()
        cookies = [
            {"name": c.name, "value": c.value, "url": server.url}
            for c in client.cookies
        ]
        reset = f"{server.url}/account/reset"
        client.post(
            reset,
            data={"csrf_token": form_token(client, reset), "email": EMAIL},
            timeout=30,
        ).raise_for_status()
        maildir = directory / "mail"
        yield Site(
            server.url,
            maildir,
            cookies,
            verify_url=newest_link(maildir, "/account/verify"),
            reset_url=newest_link(maildir, "/account/reset/confirm"),
        )


@pytest.fixture(scope="module")
def throttled_site(tmp_path_factory) -> Iterator[LiveServer]:
    """A site allowing one reset request an hour: the second is the 429 page."""
    with serve(
        tmp_path_factory.mktemp("a11y-429"),
        **{
            "ratelimit.enabled": "true",
            "ratelimit.storage_url": "memory://",
            "ratelimit.reset_ip": "1/hour",
        },
    ) as server:
        yield server


# the pages ----------------------------------------------------------------------------
def submit(page: Page, path: str, fields: dict[str, str], button: str) -> None:
    page.goto(path)
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    follow(page.get_by_role("button", name=button))


def dev_message(page: Page, site: Site) -> None:
    page.goto("/dev/mail")
    follow(page.locator("article h2 a").first)


def too_many_attempts(page: Page, site: Site, throttled: LiveServer) -> None:
    for _ in range(3):  # the first request may still pass
        submit(
            page, f"{throttled.url}/account/reset", {"Email": EMAIL}, "Send reset link"
        )
        if page.title().startswith("Too many attempts"):
            return
    raise AssertionError("no 429 page after three requests")


def go(path: str) -> Callable[..., None]:
    return lambda page, site, throttled: page.goto(path)


SIGNED_OUT: dict[str, Callable[..., None]] = {
    "home": go("/"),
    "members (to sign in)": go("/members"),
    "signin": go("/api/auth/signin"),
    "signin failed": go(
        f"/api/auth/signin?error=CredentialsSignin&email={quote(EMAIL)}"
        "&code=credentials"
    ),
    "signin not linked": go("/api/auth/signin?error=OAuthAccountNotLinked"),
    "verify-request": go(f"/api/auth/verify-request?email={quote(EMAIL)}"),
    "error": go("/api/auth/error"),
    "error Configuration": go("/api/auth/error?error=Configuration"),
    "error AccessDenied": go("/api/auth/error?error=AccessDenied"),
    "error Verification": go("/api/auth/error?error=Verification"),
    "signup": go("/signup"),
    "signup with errors": lambda page, site, throttled: submit(
        page,
        "/signup",
        {"Email": "not-an-address", "Password": "short", "Confirm password": "x"},
        "Create account",
    ),
    "check-email": go(f"/signup/check-email?email={quote(EMAIL)}"),
    "reset request": go("/account/reset"),
    "reset link sent": lambda page, site, throttled: submit(
        page, "/account/reset", {"Email": EMAIL}, "Send reset link"
    ),
    "reset confirm": lambda page, site, throttled: page.goto(site.reset_url),
    "reset link invalid": go("/account/reset/confirm?token=not-a-token"),
    "verify": lambda page, site, throttled: page.goto(site.verify_url),
    "resend": go("/account/verify/resend"),
    "resend sent": lambda page, site, throttled: submit(
        page, "/account/verify/resend", {"Email": EMAIL}, "Send a new link"
    ),
    "dev mail": go("/dev/mail"),
    "dev mail message": lambda page, site, throttled: dev_message(page, site),
    "404": go("/no-such-page"),
    "429": too_many_attempts,
}


def email_change_link(page: Page, site: Site) -> None:
    """Ask for a change of address, then open the link mailed to the new one."""
    submit(
        page,
        "/account/email",
        {"New email address": "new.reader@example.com", "Current password": PASSWORD},
        "Send confirmation link",
    )
    page.goto(newest_link(site.maildir, "/account/email/confirm"))


SIGNED_IN: dict[str, Callable[..., None]] = {
    "home signed in": go("/"),
    "members": go("/members"),
    "signout": go("/api/auth/signout"),
    "account": go("/account"),
    "account password": go("/account/password"),
    "account password with errors": lambda page, site, throttled: submit(
        page,
        "/account/password",
        {
            "Current password": "not the password",
            "New password": "short",
            "Confirm new password": "x",
        },
        "Change password",
    ),
    "account email": go("/account/email"),
    "account email with errors": lambda page, site, throttled: submit(
        page,
        "/account/email",
        {"New email address": "not-an-address", "Current password": "wrong"},
        "Send confirmation link",
    ),
    "account email sent": lambda page, site, throttled: submit(
        page,
        "/account/email",
        {"New email address": "other.reader@example.com", "Current password": PASSWORD},
        "Send confirmation link",
    ),
    "account email confirm": lambda page, site, throttled: email_change_link(
        page, site
    ),
    "account email link invalid": go("/account/email/confirm?token=not-a-token"),
    "account methods": go("/account/methods"),
    "account methods refused": go("/account/methods?link=reauth"),
    "account delete": go("/account/delete"),
    "account delete with errors": lambda page, site, throttled: submit(
        page, "/account/delete", {"Current password": "wrong"}, "Delete my account"
    ),
    "account deleted": go("/account/deleted"),
    "account sessions": go("/account/sessions"),
}


@pytest.fixture(scope="module")
def contexts(browser, site) -> Iterator[Callable[[str, bool], BrowserContext]]:
    """``contexts(variant, signed_in)``: a browser context made once per module."""
    made: dict[tuple[str, bool], BrowserContext] = {}

    def get(variant: str, signed_in: bool) -> BrowserContext:
        if (variant, signed_in) not in made:
            context = browser.new_context(
                base_url=site.url, bypass_csp=True, **VARIANTS[variant]
            )
            context.set_default_timeout(10_000)
            if signed_in:
                context.add_cookies(site.cookies)
            made[variant, signed_in] = context
        return made[variant, signed_in]

    yield get
    for context in made.values():
        context.close()


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", [*SIGNED_OUT, *SIGNED_IN])
def test_page_meets_wcag21_aa(
    contexts, axe_source, site, throttled_site, name, variant
):
    page = contexts(variant, name in SIGNED_IN).new_page()
    try:
        (SIGNED_OUT.get(name) or SIGNED_IN[name])(page, site, throttled_site)
        page.add_script_tag(content=axe_source)
        violations = page.evaluate(RUN_AXE, WCAG_TAGS)
        weak_borders = page.evaluate(WEAK_INPUT_BORDERS)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth"
        )
        where = f"{name} ({variant}) at {page.url}"
    finally:
        page.close()

    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n  " + "\n  ".join(v["nodes"])
        for v in violations
    )
    assert not violations, f"{where}:\n{report}"
    assert weak_borders == [], f"{where}: input borders under 3:1"
    assert overflow <= 0, f"{where} scrolls sideways by {overflow}px"

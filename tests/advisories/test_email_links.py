"""The magic link: who receives it, what the mail shows, and what it unlocks.

- GHSA-pgjx-7f9g-9463 (CVE-2022-31127): HTML sent as the email address was
  rendered into the sign-in mail (a phishing link inside a genuine mail).
- GHSA-xv97-c62v-4587 (CVE-2022-35924): a comma-separated address list got
  the link mailed to the attacker and the victim, and a user created for the
  whole list.
- GHSA-5jpx-9hw9-2fx4 (no CVE): a quoted local part
  (``"e@attacker.example"@victim.example``) was delivered to the attacker by
  the mail library's address parser.
- GHSA-7rqj-j65f-68wh (CVE-2026-73420): the address was validated before
  NFKC normalisation, so a look-alike ``@`` passed the one-``@`` check and
  became a second ``@`` on the way to the mailer.
- GHSA-4rxr-27mm-mxq9 (CVE-2022-39263) and GHSA-pg53-56cg-4m8q
  (CVE-2021-21310): adapters checked the token without the address it was
  made for, so any valid token signed in as anyone.

Every case runs against a live server and a real SMTP server; a mail is
judged by its SMTP envelope (where it really goes) and its HTML part.
"""

# ruff: noqa: F811 - pytest fixtures imported from oauth_support

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from app.auth.models import User, VerificationToken
from tests.advisories.support import ATTACKER, links, on_site
from tests.integration.oauth_support import Browser, live_app  # noqa: F401 - fixture

SENDER = "Authsite <login@example.test>"
VICTIM = "victim@victim.example"
OWN = f"mallory@{ATTACKER}"
CANARY = "canary@example.test"


@pytest.fixture
def site(live_server, smtp_server):
    return live_server(auth__providers="email", auth__provider__email__from=SENDER)


def _request_link(site, email: str, callback_url: str | None = None):
    return Browser(site.url).post_signin(
        "email", callback_url=callback_url, data={"email": email}
    )


def _settle(site, smtp_server) -> list:
    """All mail the attempts so far produced, once it has arrived.

    A link for a control address goes out last; when it is in, every earlier
    message is too (the mail leaves in order, whether sent in the request or
    queued), so "nothing else arrived" is a fact and not a timing guess.
    """
    answer = _request_link(site, CANARY)
    assert "verify-request" in answer.headers["Location"], answer.headers
    while not any(str(m["To"]) == CANARY for m in smtp_server.messages):
        smtp_server.wait_for(len(smtp_server.messages) + 1)
    return [m for m in smtp_server.messages if str(m["To"]) != CANARY]


def _others(envelopes: list[list[str]]) -> list[list[str]]:
    """The envelopes of every message but the control one."""
    return [recipients for recipients in envelopes if recipients != [CANARY]]


def _link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"^(https?://\S+)\s*$", text, re.M).group(1)


def _tokens(dbsession) -> list[str]:
    dbsession.rollback()  # a fresh transaction: see what the server committed
    return list(dbsession.scalars(sa.select(VerificationToken.identifier)))


def _user_emails(dbsession) -> list[str]:
    dbsession.rollback()
    return list(dbsession.scalars(sa.select(User.email)))


# GHSA-pgjx-7f9g-9463 -------------------------------------------------------------
INJECTED_ADDRESSES = (
    # the advisory's own example
    f'{VICTIM}, <a href="http://{ATTACKER}">Before signing in, claim your money!</a>',
    # the same without quotes, which the address rules would refuse outright
    f"{VICTIM},<a href=http://{ATTACKER}/claim>Before signing in, claim your money!</a>",
    f"{VICTIM},<img src=x onerror=alert(1)>",
)
INJECTED_CALLBACK = f'/"><a/href=//{ATTACKER}/claim>Claim-your-money</a>'


def test_no_html_from_the_request_reaches_the_sign_in_mail(
    site, smtp_server, envelopes
):
    """GHSA-pgjx-7f9g-9463 (CVE-2022-31127): HTML in the address, in the
    callbackUrl and in the Host header.

    Whatever is mailed holds exactly one link, to this site's callback, and
    none of the attacker's markup or text; a Host header carrying markup
    never reaches the mail (mailed links come from ``auth.url``).
    """
    for address in INJECTED_ADDRESSES:
        _request_link(site, address)
    _request_link(site, VICTIM, callback_url=INJECTED_CALLBACK)
    forged_host = Browser(site.url)
    answered = forged_host.http.post(
        forged_host.auth + "/signin/email",
        data={"csrfToken": forged_host.csrf_token(), "email": VICTIM},
        headers={"Host": f'{ATTACKER}"><a href=//{ATTACKER}>'},
        allow_redirects=False,
        timeout=10,
    )
    # Links come from auth.url: the Host header is not read at all, so this
    # is answered as any request and nothing of it reaches the mail (below).
    assert answered.status_code == 302

    messages = _settle(site, smtp_server)

    assert messages, "the victim's sign-in link should have been mailed"
    for message in messages:
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        [href] = links(html)
        assert href == _link(message)
        assert href.startswith(f"{site.url}/api/auth/callback/email?"), href
        [callback_url] = parse_qs(urlsplit(href).query)["callbackUrl"]
        assert on_site(callback_url, site.url), callback_url
        # Beyond the link itself (percent-encoded, checked above), nothing of
        # the request may show.
        rest = (
            html.replace(href.replace("&", "&amp;"), ""),
            text.replace(href, ""),
            str(message["Subject"]),
        )
        for part in rest:
            assert ATTACKER not in part
            assert "claim" not in part.lower()
            assert "<img" not in part
    assert all(rcpts == [VICTIM] for rcpts in _others(envelopes)), envelopes


# GHSA-xv97-c62v-4587 -------------------------------------------------------------
LISTS = (
    f"{OWN},{VICTIM}",
    f"{VICTIM},{OWN}",
    f"{OWN}, {VICTIM}",
    f"{VICTIM};{OWN}",
    f"Victim <{VICTIM}>, {OWN}",
    f"{VICTIM}\r\nBcc: {OWN}",
    f"{VICTIM},{ATTACKER}",  # one @: the domain is cut at the comma
)


def test_an_address_list_gets_at_most_one_recipient(
    site, smtp_server, envelopes, dbsession
):
    """GHSA-xv97-c62v-4587 (CVE-2022-35924): comma-separated addresses.

    Each request mails one recipient or none, never the attacker, and no
    token or user is made for a list of addresses.
    """
    for address in LISTS:
        answer = _request_link(site, address)
        assert answer.status_code == 302

    messages = _settle(site, smtp_server)

    assert _others(envelopes) == [[VICTIM]], envelopes
    assert [str(m["To"]) for m in messages] == [VICTIM]
    for identifier in _tokens(dbsession) + _user_emails(dbsession):
        assert "," not in identifier and ATTACKER not in identifier, identifier


# GHSA-5jpx-9hw9-2fx4 --------------------------------------------------------------
QUOTED = (
    f'"e@{ATTACKER}"@victim.example',
    f'"{OWN} x"@victim.example',
    f'"{OWN}"<{VICTIM}>',
    f"e\\@{ATTACKER}@victim.example",
    f"<{OWN}>{VICTIM}",
    f"{OWN}@victim.example",
)


def test_quoted_or_nested_addresses_get_no_link(
    site, smtp_server, envelopes, dbsession
):
    """GHSA-5jpx-9hw9-2fx4: quoted local parts and nested ``@``.

    A mail library may read ``"e@attacker"@victim`` as the attacker's address;
    such an address is refused before a token is made or a mail is sent, and
    the answer says so on the sign-in page.
    """
    for address in QUOTED:
        answer = _request_link(site, address)
        assert answer.status_code == 302
        assert "verify-request" not in answer.headers["Location"], address

    assert _settle(site, smtp_server) == []
    assert _others(envelopes) == []
    assert _tokens(dbsession) == [CANARY]


# GHSA-7rqj-j65f-68wh --------------------------------------------------------------
LOOK_ALIKES = (
    # (what the attacker sends, who may receive a link: None = nobody)
    (f"{VICTIM}\uff20{ATTACKER}", None),  # FULLWIDTH COMMERCIAL AT
    (f"{VICTIM}\ufe6b{ATTACKER}", None),  # SMALL COMMERCIAL AT
    (f"victim\uff20victim.example\uff20{ATTACKER}", None),
    (f"{VICTIM}\uff0c{ATTACKER}", VICTIM),  # FULLWIDTH COMMA: domain cut there
    ("\uff56ictim@victim.example", VICTIM),  # FULLWIDTH v
    ("victim@victim\u2024example", VICTIM),  # ONE DOT LEADER
    ("\u24e5ictim@victim.example", VICTIM),  # CIRCLED v
)


@pytest.mark.parametrize(("address", "recipient"), LOOK_ALIKES)
def test_look_alike_characters_are_normalised_before_the_address_is_checked(
    site, smtp_server, envelopes, dbsession, address, recipient
):
    """GHSA-7rqj-j65f-68wh (CVE-2026-73420): validation before NFKC.

    The address is normalised first and checked after, so what was checked
    is what is stored, mailed and put in the link: a look-alike ``@`` that
    becomes a second ``@`` is refused, other compatibility characters fold
    into the one address they stand for.
    """
    _request_link(site, address)

    messages = _settle(site, smtp_server)

    if recipient is None:
        assert messages == []
        assert _others(envelopes) == []
        assert _tokens(dbsession) == [CANARY]
    else:
        [message] = messages
        assert _others(envelopes) == [[recipient]]
        assert str(message["To"]) == recipient
        assert parse_qs(urlsplit(_link(message)).query)["email"] == [recipient]
        assert sorted(_tokens(dbsession)) == sorted([CANARY, recipient])


# GHSA-4rxr-27mm-mxq9, GHSA-pg53-56cg-4m8q ----------------------------------------------
def _with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    query = {k: v for k, v in query.items() if v is not None}
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_token_signs_in_only_the_address_it_was_mailed_to(
    site, smtp_server, dbsession
):
    """GHSA-4rxr-27mm-mxq9 (CVE-2022-39263) and GHSA-pg53-56cg-4m8q
    (CVE-2021-21310): the token checked without its address.

    The attacker asks for a link to their own mailbox and replays its token
    with the victim's address (and with none): the victim's account is not
    entered, not marked verified, and the attacker holds no session.
    """
    dbsession.add(User(email=VICTIM, name="Victim"))
    dbsession.commit()
    answer = _request_link(site, OWN)
    assert "verify-request" in answer.headers["Location"]
    [message] = smtp_server.wait_for(1)
    own_link = _link(message)

    for forged in (
        _with_query(own_link, email=VICTIM),
        _with_query(own_link, email=VICTIM.upper()),
        _with_query(own_link, email=None),
        _with_query(own_link, email=VICTIM, token="0" * 64),
    ):
        attacker = Browser(site.url)
        done = attacker.get(forged)
        assert done.status_code == 302
        assert (
            done.headers["Location"] == f"{site.url}/api/auth/error?error=Verification"
        )
        assert attacker.session() is None

    dbsession.rollback()
    victim = dbsession.scalars(sa.select(User).where(User.email == VICTIM)).one()
    assert victim.email_verified is None
    # The token still works for the address it was mailed to, and only there.
    owner = Browser(site.url)
    assert on_site(owner.get(own_link).headers["Location"], site.url)
    assert owner.session()["user"]["email"] == OWN

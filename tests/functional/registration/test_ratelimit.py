"""Throttling of sign-in, signup, reset and every mail: 429 or RateLimited, with Retry-After."""

# ruff: noqa: F811 - pytest fixtures imported from mail_support

from __future__ import annotations

import logging
import uuid
from urllib.parse import quote

import pytest
import redis
from webtest import TestApp

from tests.functional.registration.helpers import (
    GOOD_PASSWORD,
    csrf_token,
    rows,
    session,
    signin,
    signup,
    unique_email,
)
from tests.mail_support import mail_queue  # noqa: F401 - fixture


@pytest.fixture(params=["memory", "redis"])
def storage(request, redis_url):
    """Overrides for one storage; Redis keys get a prefix of their own per test."""
    if request.param == "memory":
        yield {"ratelimit__storage_url": "memory://"}
        return
    prefix = f"test-{uuid.uuid4().hex}"
    yield {"ratelimit__storage_url": redis_url, "ratelimit__key_prefix": prefix}
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def browser(wsgi, address: str = "203.0.113.7") -> TestApp:
    return TestApp(wsgi, extra_environ={"REMOTE_ADDR": address})


def test_signup_over_the_limit_is_429_with_retry_after(smtp_server, make_wsgi, storage):
    wsgi = make_wsgi(
        ratelimit__enabled="true", ratelimit__signup_ip="2/minute", **storage
    )
    signup(browser(wsgi), unique_email(), status=302)
    signup(browser(wsgi), "not-an-email", status=400)  # refusals count too

    page = signup(browser(wsgi), unique_email(), status=429)

    assert 1 <= int(page.headers["Retry-After"]) <= 60
    assert "Too many attempts" in page.text
    assert "Please wait" in page.text
    # another client is not affected
    signup(browser(wsgi, "198.51.100.9"), unique_email(), status=302)


def test_sign_in_failures_are_throttled_per_account(smtp_server, make_wsgi, storage):
    wsgi = make_wsgi(
        ratelimit__enabled="true", ratelimit__signin_account="3/minute", **storage
    )
    email = unique_email()
    signup(browser(wsgi), email, status=302)
    for n in range(3):  # from three different addresses
        failed = signin(browser(wsgi, f"192.0.2.{n + 1}"), email, "wrong password here")
        assert failed.location.endswith("code=credentials")

    throttled = signin(browser(wsgi, "192.0.2.99"), email, GOOD_PASSWORD)

    assert throttled.location == (
        "http://localhost/api/auth/signin?error=CredentialsSignin"
        f"&email={quote(email)}&code=rate_limited"
    )
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    page = browser(wsgi).get(throttled.location)
    assert "Too many attempts" in page.text
    # other accounts still sign in
    other = unique_email()
    signup(browser(wsgi, "198.51.100.1"), other, status=302)
    assert signin(browser(wsgi), other, GOOD_PASSWORD).location == "http://localhost"


def test_a_forged_x_forwarded_for_does_not_escape_the_limit(smtp_server, make_wsgi):
    wsgi = make_wsgi(ratelimit__enabled="true", ratelimit__signup_ip="2/minute")
    client = browser(wsgi)
    for n in range(2):
        client.extra_environ["HTTP_X_FORWARDED_FOR"] = f"10.0.0.{n}"
        signup(client, unique_email(), status=302)

    client.extra_environ["HTTP_X_FORWARDED_FOR"] = "10.0.0.99"
    signup(client, unique_email(), status=429)


def test_sign_in_failures_are_throttled_per_client_address(
    smtp_server, make_wsgi, storage
):
    wsgi = make_wsgi(
        ratelimit__enabled="true", ratelimit__signin_ip="2/minute", **storage
    )
    email = unique_email()
    signup(browser(wsgi, "198.51.100.1"), email, status=302)
    attacker = "203.0.113.66"
    for _ in range(2):
        signin(browser(wsgi, attacker), unique_email("guess"), "guess guess guess")

    throttled = signin(browser(wsgi, attacker), email, GOOD_PASSWORD)

    assert throttled.location.endswith("code=rate_limited")
    assert "Retry-After" in throttled.headers
    honest = browser(wsgi, "198.51.100.2")
    assert signin(honest, email, GOOD_PASSWORD).location == "http://localhost"
    assert session(honest)["user"]["email"] == email


def test_successful_sign_ins_do_not_count(smtp_server, make_wsgi):
    wsgi = make_wsgi(ratelimit__enabled="true", ratelimit__signin_account="2/minute")
    email = unique_email()
    signup(browser(wsgi), email, status=302)

    answers = [signin(browser(wsgi), email, GOOD_PASSWORD).location for _ in range(4)]

    assert answers == ["http://localhost"] * 4


def test_reset_requests_over_the_limit_are_429(smtp_server, make_wsgi, storage):
    wsgi = make_wsgi(
        ratelimit__enabled="true", ratelimit__reset_ip="2/minute", **storage
    )
    for _ in range(2):
        form = browser(wsgi).get("/account/reset").forms[0]
        form["email"] = unique_email()
        form.submit(status=200)

    form = browser(wsgi).get("/account/reset").forms[0]
    form["email"] = unique_email()
    page = form.submit(status=429)

    assert int(page.headers["Retry-After"]) >= 1
    assert "Too many attempts" in page.text


def test_unreachable_redis_lets_attempts_through_and_warns(
    smtp_server, make_wsgi, caplog
):
    wsgi = make_wsgi(
        ratelimit__enabled="true",
        ratelimit__signup_ip="1/minute",
        ratelimit__storage_url="redis://127.0.0.1:1/0",
    )

    with caplog.at_level(logging.WARNING, logger="app.registration.ratelimit"):
        for _ in range(3):
            signup(browser(wsgi), unique_email(), status=302)

    assert any("letting the attempt through" in r.getMessage() for r in caplog.records)


def test_disabled_rate_limiting_never_throttles(smtp_server, make_wsgi):
    wsgi = make_wsgi(ratelimit__enabled="false", ratelimit__signup_ip="1/minute")

    for _ in range(3):
        signup(browser(wsgi), unique_email(), status=302)


# mail-sending actions --------------------------------------------------------------
MAGIC_LINK = {"auth__providers": "email", "ratelimit__enabled": "true"}


def request_magic_link(app: TestApp, email: str):
    data = {"csrfToken": csrf_token(app), "email": email}
    return app.post("/api/auth/signin/email", data, status=302)


def token_rows(engine) -> int:
    return rows(engine, "SELECT count(*) AS n FROM verification_token")[0].n


def test_forty_magic_link_requests_from_one_client_mail_at_most_the_limit(
    make_wsgi, mail_queue, smtp_server, dbengine
):
    wsgi = make_wsgi(**MAGIC_LINK, ratelimit__magic_link_ip="5/minute")
    client = browser(wsgi)

    answers = [request_magic_link(client, unique_email()) for _ in range(40)]

    throttled = [a for a in answers if "error=RateLimited" in a.location]
    assert len(throttled) == 35
    assert all(1 <= int(a.headers["Retry-After"]) <= 60 for a in throttled)
    assert all(
        a.location.startswith("http://localhost/api/auth/verify-request?")
        for a in answers[:5]
    )
    assert token_rows(dbengine) == 5
    assert mail_queue.deliver(client) == 0
    assert len(smtp_server.messages) == 5
    # another client is not affected
    assert (
        "verify-request"
        in request_magic_link(browser(wsgi, "198.51.100.9"), unique_email()).location
    )


def test_magic_links_to_one_address_are_throttled_from_any_client(
    make_wsgi, mail_queue, smtp_server, dbengine
):
    wsgi = make_wsgi(**MAGIC_LINK, ratelimit__mail_account="3/minute")
    victim = unique_email("victim")

    answers = [
        # spellings that are the same address count together
        request_magic_link(browser(wsgi, f"192.0.2.{n}"), spelling)
        for n, spelling in enumerate(
            [victim, victim.upper(), f" {victim}", victim.replace("v", "ｖ", 1)] * 10
        )
    ]

    assert sum("error=RateLimited" in a.location for a in answers) == 37
    assert 1 <= token_rows(dbengine) <= 3  # a newer link may void older ones
    mail_queue.deliver(browser(wsgi))
    assert len(smtp_server.to(victim)) == 3


def test_reset_and_confirmation_requests_share_a_per_address_limit(
    smtp_server, make_wsgi, storage
):
    wsgi = make_wsgi(
        ratelimit__enabled="true", ratelimit__mail_account="3/minute", **storage
    )
    email = unique_email()
    signup(browser(wsgi, "198.51.100.1"), email, status=302)  # the first mail
    smtp_server.wait_for(1)

    def ask(path: str, address: str, n: int):
        form = browser(wsgi, f"192.0.2.{n}").get(path).forms[0]
        form["email"] = address
        return form.submit(status="*")

    assert ask("/account/reset", email, 1).status_int == 200
    assert ask("/account/verify/resend", email.upper(), 2).status_int == 200
    refused = ask("/account/reset", email, 3)

    assert refused.status_int == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many attempts" in refused.text
    assert len(smtp_server.wait_for(3)) == 3  # signup, reset, new confirmation link
    # an address without an account is counted the same way: the 429 tells nothing
    nobody = unique_email("nobody")
    assert [ask("/account/reset", nobody, 10 + n).status_int for n in range(4)] == [
        200,
        200,
        200,
        429,
    ]

"""Two app processes behind one Redis share their sign-in counters (real servers)."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
import redis
import requests

from tests.functional.registration.helpers import GOOD_PASSWORD, signup, unique_email

pytestmark = pytest.mark.live


def _signin(base_url: str, email: str, password: str) -> requests.Response:
    client = requests.Session()
    token = client.get(f"{base_url}/api/auth/csrf", timeout=30).json()["csrfToken"]
    return client.post(
        f"{base_url}/api/auth/callback/credentials",
        data={"csrfToken": token, "email": email, "password": password},
        allow_redirects=False,
        timeout=30,
    )


@pytest.fixture
def prefix(redis_url):
    value = f"test-{uuid.uuid4().hex}"
    yield value
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*{value}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_failures_on_one_process_throttle_the_account_on_another(
    smtp_server, live_server, make_app, prefix, redis_url
):
    settings = {
        "ratelimit__enabled": "true",
        "ratelimit__storage_url": redis_url,
        "ratelimit__key_prefix": prefix,
        "ratelimit__signin_account": "3/minute",
    }
    first, second = live_server(**settings), live_server(**settings)
    email = unique_email()
    signup(make_app(), email, status=302)

    for server in (first, second, first):
        refused = _signin(server.url, email, "not my password at all")
        assert refused.headers["Location"].endswith("code=credentials")
    throttled = _signin(second.url, email, GOOD_PASSWORD)

    assert throttled.status_code == 302
    assert throttled.headers["Location"].endswith(
        f"/api/auth/signin?error=CredentialsSignin&email={quote(email)}"
        "&code=rate_limited"
    )
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60

"""Non-ASCII callback URLs never reach a ``Location`` header raw.

Over a real waitress server (webtest does not encode headers as a server
does): a Unicode path, query or fragment is percent-encoded as UTF-8 and an
internationalised host is IDNA-encoded, or the redirect falls back to the
origin when the host has no IDNA form. Before, waitress could not encode
such a header and answered 500.
"""

from __future__ import annotations

import pytest
import requests

from tests.functional.support import CREDENTIALS, PASSWORD, PROVIDER

UNICODE_PATH = "/straße/日本?q=ü#teil-ä"
ENCODED_PATH = "/stra%C3%9Fe/%E6%97%A5%E6%9C%AC?q=%C3%BC#teil-%C3%A4"


class Client:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def csrf(self) -> str:
        return self.http.get(f"{self.url}/api/auth/csrf", timeout=10).json()[
            "csrfToken"
        ]

    def post(self, path: str, data: dict) -> requests.Response:
        return self.http.post(
            f"{self.url}{path}",
            data={"csrfToken": self.csrf(), **data},
            allow_redirects=False,
            timeout=10,
        )

    def sign_out(self, callback_url: str | None = None) -> requests.Response:
        data = {} if callback_url is None else {"callbackUrl": callback_url}
        return self.post("/api/auth/signout", data)


def _location(response: requests.Response) -> str:
    assert response.status_code == 302, response.text[:300]
    location = response.headers["Location"]
    assert location.isascii(), location
    return location


@pytest.mark.no_database
def test_sign_out_to_a_unicode_path_is_percent_encoded(live_server):
    server = live_server(**CREDENTIALS)

    response = Client(server.url).sign_out(UNICODE_PATH)

    assert _location(response) == server.url + ENCODED_PATH


def test_sign_in_to_a_unicode_url_is_percent_encoded(live_server):
    server = live_server(**CREDENTIALS)
    client = Client(server.url)

    response = client.post(
        f"/api/auth/callback/{PROVIDER}",
        {
            "username": "alice",
            "password": PASSWORD,
            "callbackUrl": server.url + UNICODE_PATH,
        },
    )

    assert _location(response) == server.url + ENCODED_PATH
    session = client.http.get(f"{server.url}/api/auth/session", timeout=10).json()
    assert session["user"]["email"] == "alice@example.com"


@pytest.mark.no_database
def test_unicode_callback_url_on_the_signin_page_is_kept_encoded(live_server):
    server = live_server(**CREDENTIALS)
    client = Client(server.url)

    page = client.http.get(
        f"{server.url}/api/auth/signin",
        params={"callbackUrl": "/日本"},
        timeout=10,
    )
    response = client.sign_out()  # no callbackUrl: the cookie's

    assert page.status_code == 200
    assert _location(response) == f"{server.url}/%E6%97%A5%E6%9C%AC"


@pytest.mark.no_database
def test_internationalised_host_is_idna_encoded(live_server):
    server = live_server(
        **CREDENTIALS,
        pyramid__includes="tests.functional.support.include_permissive_redirects",
    )

    response = Client(server.url).sign_out("https://bücher.example/ß")

    assert _location(response) == "https://xn--bcher-kva.example/%C3%9F"


@pytest.mark.no_database
def test_host_without_an_idna_form_falls_back_to_the_origin(live_server):
    server = live_server(
        **CREDENTIALS,
        pyramid__includes="tests.functional.support.include_permissive_redirects",
    )

    response = Client(server.url).sign_out("https://a\u200d.example/")

    assert _location(response) == server.url


@pytest.mark.no_database
def test_redirect_callbacks_judge_the_url_the_browser_will_follow(live_server):
    # U+3002 (IDEOGRAPHIC FULL STOP) is a "." to a browser: the callback
    # sees https://attacker.example/ and can refuse it.
    server = live_server(
        **CREDENTIALS,
        pyramid__includes="tests.functional.support.include_refuse_attacker_redirects",
    )

    response = Client(server.url).sign_out("https://attacker\u3002example/")

    assert _location(response) == server.url

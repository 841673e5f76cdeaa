"""A person's browser without JavaScript: forms read from the served HTML and
submitted over HTTP with a cookie jar, and mail read from ``/dev/mail``."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup

PASSWORD = "violet tractor umbrella 42"
MAIL_TIMEOUT = 20.0


def unique_email(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@example.com"


class Visitor:
    """One person's session with the site (its own cookie jar)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(urljoin(self.base_url, path), timeout=10, **kwargs)

    def form(self, path: str, action_suffix: str) -> tuple[str, dict[str, str]]:
        """The form on ``path`` whose action ends with ``action_suffix``:
        its absolute action URL and its prefilled fields (hidden ones too)."""
        page = self.get(path)
        assert page.status_code == 200, page.text
        html = BeautifulSoup(page.text, "html.parser")
        for form in html.find_all("form"):
            action = urljoin(page.url, form.get("action") or page.url)
            if action.rstrip("/").endswith(action_suffix):
                fields = {
                    field["name"]: field.get("value", "")
                    for field in form.find_all("input")
                    if field.get("name")
                }
                return action, fields
        raise AssertionError(f"no form posting to *{action_suffix} on {path}")

    def submit(self, path: str, action_suffix: str, **values: str) -> requests.Response:
        """Fill in the form as a person would and send it; redirects not followed."""
        action, fields = self.form(path, action_suffix)
        unknown = set(values) - set(fields)
        assert not unknown, f"the form has no fields {unknown}"
        fields.update(values)
        return self.http.post(action, data=fields, allow_redirects=False, timeout=10)

    def follow(self, response: requests.Response) -> requests.Response:
        assert response.status_code in (302, 303), (response.status_code, response.text)
        return self.get(response.headers["Location"], allow_redirects=False)

    def session(self):
        """The session JSON (None when signed out)."""
        return self.get("/api/auth/session").json()

    def sign_up(self, email: str, password: str = PASSWORD) -> requests.Response:
        return self.submit(
            "/signup",
            "/signup",
            name="Shipped Person",
            email=email,
            password=password,
            password_confirm=password,
        )

    def sign_in(self, email: str, password: str) -> requests.Response:
        return self.submit(
            "/api/auth/signin", "/callback/credentials", email=email, password=password
        )

    def sign_out(self) -> requests.Response:
        return self.submit("/api/auth/signout", "/api/auth/signout")


def mailed_link(base_url: str, address: str, fragment: str) -> str:
    """The first link containing ``fragment`` in a mail to ``address``, read
    from the ``/dev/mail`` page; polls, since delivery may be queued."""
    mailbox = Visitor(base_url)
    deadline = time.monotonic() + MAIL_TIMEOUT
    while True:
        page = BeautifulSoup(mailbox.get("/dev/mail").text, "html.parser")
        for article in page.find_all("article"):
            if address in article.get_text():
                links = [
                    a["href"] for a in article.find_all("a") if fragment in a["href"]
                ]
                if links:
                    return links[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {address} with a {fragment} link")
        time.sleep(0.25)

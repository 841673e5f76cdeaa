"""``pserve development.ini`` as shipped, attacked the way a web page the
developer visits could: through DNS rebinding (its own name in ``Host``,
resolving to 127.0.0.1) and with paths that are not UTF-8. The debug
toolbar sits above the site's exception views, so these reached it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

# What a rebinding page sends: its own name, the server's port.
FOREIGN_NAMES = ("evil.example", "127.0.0.1.nip.io", "localhost.evil.example")


def _get(shipped, path: str, host: str | None = None) -> requests.Response:
    headers = {} if host is None else {"Host": host}
    return requests.get(
        shipped.url + path, headers=headers, timeout=10, allow_redirects=False
    )


@pytest.mark.parametrize("name", FOREIGN_NAMES)
@pytest.mark.parametrize("path", ["/", "/_debug_toolbar/", "/dev/mail", "/signup"])
def test_a_foreign_host_gets_the_400_page_not_the_toolbar(shipped, name, path):
    port = urlsplit(shipped.url).port

    response = _get(shipped, path, host=f"{name}:{port}")

    assert response.status_code == 400
    assert "Bad request" in response.text
    assert "pDebugToolbarHandle" not in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_the_dev_hosts_are_served(shipped, host):
    port = urlsplit(shipped.url).port

    response = _get(shipped, "/", host=f"{host}:{port}")

    assert response.status_code == 200
    assert "pDebugToolbarHandle" in response.text


@pytest.mark.parametrize(
    "path",
    ["/%ff", "/signup/%ff", "/api/auth/%ff", "/static/%ff", "/dev/mail/%ff%fe"],
)
def test_a_path_that_is_not_utf8_gets_the_400_page(shipped, path):
    logged_before = shipped.log.stat().st_size

    response = _get(shipped, path)

    assert response.status_code == 400
    assert "Bad request" in response.text
    with shipped.log.open("rb") as log:
        log.seek(logged_before)
        assert b"Traceback" not in log.read()

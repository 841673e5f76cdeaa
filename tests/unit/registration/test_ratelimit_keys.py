"""Throttling keys: client addresses (IPv6 by /64) and hashed accounts."""

from __future__ import annotations

import pytest
from pyramid.request import Request

from app.registration.ratelimit import account_key, client_key


@pytest.mark.parametrize(
    ("addr", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        (None, "unknown"),
        ("garbage", "unknown"),
    ],
)
def test_client_key(addr, key):
    request = Request.blank("/", environ={"REMOTE_ADDR": addr} if addr else {})

    assert client_key(request) == key


def test_account_key_is_case_insensitive_and_hides_the_address():
    key = account_key(" Jane@Example.com ")

    assert key == account_key("jane@example.com")
    assert key == account_key("ｊａｎｅ@example.com")  # NFKC: fullwidth letters
    assert "jane" not in key


def test_client_key_ignores_x_forwarded_for():
    request = Request.blank(
        "/",
        environ={"REMOTE_ADDR": "203.0.113.7"},
        headers={"X-Forwarded-For": "1.2.3.4"},
    )

    assert client_key(request) == "203.0.113.7"

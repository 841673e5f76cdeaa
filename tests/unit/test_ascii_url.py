"""Redirect targets made ASCII for the ``Location`` header (``app.auth.flow.ascii_url``)."""

from __future__ import annotations

import pytest

from app.auth.flow import ascii_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost/a?b=c#d", "http://localhost/a?b=c#d"),  # ASCII: as is
        ("/ünïcode", "/%C3%BCn%C3%AFcode"),
        ("http://x.test/%41ü", "http://x.test/%41%C3%BC"),  # escapes kept
        (
            "http://x.test/?q=日本&r=1#ä",
            "http://x.test/?q=%E6%97%A5%E6%9C%AC&r=1#%C3%A4",
        ),
        ("https://Bücher.example:8443/", "https://xn--bcher-kva.example:8443/"),
        (
            "http://nö:pä@bücher.example/",
            "http://n%C3%B6:p%C3%A4@xn--bcher-kva.example/",
        ),
        ("http://faß.de/", "http://xn--fa-hia.de/"),  # IDNA 2008: not "fass.de"
    ],
)
def test_non_ascii_parts_are_encoded(url, expected):
    assert ascii_url(url) == expected


@pytest.mark.parametrize("url", ["http://a\u200d.example/", "http://-ü-.example/"])
def test_a_host_without_an_idna_form_gives_none(url):
    assert ascii_url(url) is None

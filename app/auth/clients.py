"""A short, human summary of a ``User-Agent`` header: "Firefox on Linux".

For the session registry's "where you are signed in" list only: nothing is
decided from it (any client can send any header). The rules are a few
ordered patterns over the common browsers and systems; anything else is
summarised by its first product token, cut short, or "Unknown client".
"""

from __future__ import annotations

import re

MAX_INPUT = 512
MAX_SUMMARY = 100

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("Edge", r"\bEdg(?:e|A|iOS)?/"),
        ("Opera", r"\b(?:OPR|Opera)/"),
        ("Samsung Internet", r"\bSamsungBrowser/"),
        ("Firefox", r"\b(?:Firefox|FxiOS)/"),
        ("Chrome", r"\b(?:HeadlessChrome|Chrome|CriOS|Chromium)/"),
        ("Safari", r"\bVersion/[\d.]+.*\bSafari/"),
        ("curl", r"^curl/"),
        ("Python", r"^python-(?:requests|urllib|httpx)"),
    )
)
_SYSTEMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("Android", r"\bAndroid\b"),
        ("iOS", r"\b(?:iPhone|iPad|iPod)\b"),
        ("ChromeOS", r"\bCrOS\b"),
        ("Windows", r"\bWindows\b"),
        ("macOS", r"\bMac OS X\b|\bMacintosh\b"),
        ("Linux", r"\bLinux\b|\bX11\b"),
    )
)
_PRODUCT = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,40}")


def summarize_user_agent(user_agent: str | None) -> str:
    """``"Chrome on Linux"``, ``"Safari on iOS"``, ``"curl"``; never empty."""
    text = (user_agent or "")[:MAX_INPUT]
    if not text.strip():
        return "Unknown client"
    browser = next((name for name, p in _BROWSERS if p.search(text)), None)
    system = next((name for name, p in _SYSTEMS if p.search(text)), None)
    if browser is None:
        product = _PRODUCT.match(text.strip())
        browser = product.group(0) if product else "Unknown client"
    summary = f"{browser} on {system}" if system else browser
    return summary[:MAX_SUMMARY]

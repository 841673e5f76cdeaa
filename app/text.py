"""Free text the site stores and shows again (display names): which
characters it never keeps. Shared by the auth core (names from OAuth profiles)
and registration (names typed at signup), so both keep the same rule."""

from __future__ import annotations

import unicodedata

#: The bidirectional embeddings, overrides and isolates (category Cf): they
#: reorder the text shown around them ("Trojan Source", CVE-2021-42574).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe_character(char: str) -> bool:
    """A control character (category Cc, NUL included, which PostgreSQL's
    text refuses) or a bidirectional control."""
    return char in BIDI_CONTROLS or unicodedata.category(char) == "Cc"


def without_unsafe_characters(text: str) -> str:
    """``text`` with runs of whitespace (tabs and line breaks too) made one
    space and every other unsafe character left out."""
    kept = "".join(c for c in text if c.isspace() or not unsafe_character(c))
    return " ".join(kept.split())

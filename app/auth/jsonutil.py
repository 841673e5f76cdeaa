"""JSON as JavaScript's ``JSON.stringify`` writes it, for bodies and tokens."""

from __future__ import annotations

import json

# Built once: ``json.dumps`` with options constructs a new encoder per call.
_UTF8 = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_ASCII = json.JSONEncoder(separators=(",", ":"))


def compact_json(value) -> bytes:
    """No spaces, UTF-8. A lone surrogate (possible in decoded JSON input) is
    written as a ``\\u`` escape, as JavaScript's well-formed stringify does,
    instead of failing to encode."""
    try:
        return _UTF8.encode(value).encode()
    except UnicodeEncodeError:
        return _ASCII.encode(value).encode()

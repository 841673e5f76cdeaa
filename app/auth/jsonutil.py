"""JSON as JavaScript's ``JSON.stringify`` writes it, for bodies and tokens."""

from __future__ import annotations

import json


def compact_json(value: object) -> bytes:
    """``value`` as compact UTF-8 JSON (no spaces, non-ASCII written as is).

    ``NaN`` and the infinities raise :class:`ValueError`: they are not JSON,
    and JavaScript would silently turn them into ``null``, changing the value.
    A lone surrogate (a JSON body may carry ``"\\ud800"``, which Python
    decodes to a string UTF-8 cannot hold) is written as a ``\\u`` escape, as
    JavaScript's well-formed ``JSON.stringify`` does: the document is then
    ASCII-escaped throughout, the same JSON value, instead of failing.
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()

"""compact_json: orjson's speed, the standard library's answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import pytest

from app.auth.jsonutil import compact_json


def stdlib(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class Name(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"user": {"name": "Zoë", "email": "z@example.com"}, "expires": "2026"},
        {"sub": "1", "iat": 1, "exp": 2, "jti": "x", "flag": True, "n": None},
        ["\u2028", "\x00", "tab\t", 'quote"', "back\\slash", "emoji 🎉"],
        {"big": 2**64},
        {1: "integer key"},
        {"name": Name("subclass")},
        {"n": 1.5, "m": -0.0},
    ],
)
def test_compact_json_writes_what_the_standard_library_writes(value):
    assert compact_json(value) == stdlib(value)


def test_a_lone_surrogate_is_escaped_instead_of_failing():
    assert compact_json({"name": "\ud800"}) == b'{"name":"\\ud800"}'


@pytest.mark.parametrize(
    "value",
    [
        {"when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
        {"obj": dataclasses.make_dataclass("D", [("a", int)])(1)},
        {"obj": object()},
    ],
)
def test_what_the_standard_library_refuses_is_still_refused(value):
    with pytest.raises(TypeError):
        compact_json(value)


def test_non_finite_numbers_are_null_as_javascript_writes_them():
    # The standard library would write Infinity/NaN, which is not JSON.
    assert compact_json({"x": math.inf, "y": math.nan}) == b'{"x":null,"y":null}'

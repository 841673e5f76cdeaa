"""compact_json: the one JSON writer for bodies and tokens."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import pytest

from app.auth.jsonutil import compact_json


class Name(str):
    pass


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, b"null"),
        (
            {"user": {"name": "Zoë", "email": "z@example.com"}, "expires": "2026"},
            '{"user":{"name":"Zoë","email":"z@example.com"},"expires":"2026"}'.encode(),
        ),
        (
            {"sub": "1", "iat": 1, "exp": 2, "jti": "x", "flag": True, "n": None},
            b'{"sub":"1","iat":1,"exp":2,"jti":"x","flag":true,"n":null}',
        ),
        (
            ["\u2028", "\x00", "tab\t", 'quote"', "back\\slash", "emoji 🎉"],
            '["\u2028","\\u0000","tab\\t","quote\\"","back\\\\slash","emoji 🎉"]'.encode(),
        ),
        ({"big": 2**64}, b'{"big":18446744073709551616}'),
        ({1: "integer key"}, b'{"1":"integer key"}'),
        ({"name": Name("subclass")}, b'{"name":"subclass"}'),
        ({"n": 1.5, "m": -0.0}, b'{"n":1.5,"m":-0.0}'),
    ],
)
def test_compact_json_is_compact_utf8(value, expected):
    assert compact_json(value) == expected
    assert json.loads(expected) == json.loads(json.dumps(value))


def test_a_lone_surrogate_is_escaped_instead_of_failing():
    assert compact_json({"name": "\ud800"}) == b'{"name":"\\ud800"}'


def test_a_document_with_a_lone_surrogate_is_escaped_throughout_and_reads_back():
    value = {"name": "Zoë \ud800", "city": "山田"}

    written = compact_json(value)

    assert written.isascii()
    assert json.loads(written) == value


@pytest.mark.parametrize(
    "value",
    [
        {"x": math.nan},
        {"x": math.inf},
        {"x": -math.inf},
        [1, [2, {"deep": math.nan}]],
        {"x": math.nan, "y": "\ud800"},
    ],
    ids=["nan", "inf", "-inf", "nested", "with-surrogate"],
)
def test_nan_and_infinity_are_refused(value):
    # json.dumps would write NaN/Infinity, which is not JSON; JavaScript
    # would write null, which changes the value. Neither is acceptable.
    with pytest.raises(ValueError):
        compact_json(value)


@pytest.mark.parametrize(
    "value",
    [
        {"when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
        {"obj": dataclasses.make_dataclass("D", [("a", int)])(1)},
        {"obj": object()},
    ],
)
def test_what_has_no_json_form_is_refused(value):
    with pytest.raises(TypeError):
        compact_json(value)

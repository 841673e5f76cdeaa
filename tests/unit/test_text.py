"""app/text.py: the characters no stored display name keeps."""

from __future__ import annotations

import pytest

from app.text import unsafe_character, without_unsafe_characters


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x7f", "\u202e", "\u2066", "\t"])
def test_control_and_bidi_characters_are_unsafe(char):
    assert unsafe_character(char)


@pytest.mark.parametrize("char", ["a", "é", "漢", " ", "\u200d"])
def test_letters_spaces_and_joiners_are_kept(char):
    assert not unsafe_character(char)


def test_whitespace_becomes_one_space_and_the_rest_is_left_out():
    assert without_unsafe_characters(" Null\x00 \u202eUser\x07\r\n Ada\t") == (
        "Null User Ada"
    )

"""Network text is shown literally: no markup, no escape sequences, no control characters."""

from __future__ import annotations

from lobby.tui.safe import clean, plain

HOSTILE = "[@click=app.quit]x[/] [b]bold[/b] \x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07 \x07bell\u202e"


def test_clean_strips_escapes_and_controls_but_keeps_brackets():
    assert clean(HOSTILE) == "[@click=app.quit]x[/] [b]bold[/b] red link bell"


def test_clean_newlines_only_when_multiline():
    assert clean("a\nb\tc\r") == "a b c"
    assert clean("a\nb", multiline=True) == "a\nb"


def test_plain_is_literal_text():
    text = plain("[b]x[/b]")
    assert text.plain == "[b]x[/b]" and not text.spans

"""Network text made safe to show.

Team names, player ids, messages and server sentences come from other people. They are shown
literally: never parsed as Textual markup, and stripped of terminal escape sequences, control
characters and bidirectional overrides that could repaint or reorder the screen.
"""

from __future__ import annotations

import re

from rich.text import Text

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC
# (ESC P|X|^|_ ... ST), and two-character escapes. The 8-bit C1 forms are covered too.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]                       # CSI
  | (?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c|$)               # OSC
  | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f]).*?(?:\x1b\\|\x9c|$)  # DCS, SOS, PM, APC
  | \x1b[ -/]*[0-~]?                                       # other escapes (or a lone ESC)
    """,
    re.VERBOSE | re.DOTALL,
)
# C0 controls except tab/newline, DEL, C1 controls, and bidi embedding/override/isolate marks.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: object, *, multiline: bool = False) -> str:
    """``value`` as text with escapes and control characters removed.

    Tabs become spaces; newlines are kept only when ``multiline`` (otherwise they become spaces).
    """
    text = value if isinstance(value, str) else str(value)
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub("", text)
    text = text.replace("\t", " ")
    if not multiline:
        text = text.replace("\r", "").replace("\n", " ")
    return text


def plain(value: object, style: str = "", *, multiline: bool = False) -> Text:
    """A rich Text showing ``value`` literally (no markup), cleaned."""
    return Text(
        clean(value, multiline=multiline),
        style=style,
        no_wrap=not multiline,
        overflow="fold" if multiline else "ellipsis",
    )

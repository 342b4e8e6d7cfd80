"""Network text made safe to show.

Team names, player ids, messages and server sentences come from other people. They are shown
literally: never parsed as Textual markup, and stripped of terminal escape sequences, control
characters and bidirectional overrides that could repaint or reorder the screen. Lone
surrogates (which a terminal cannot encode) become U+FFFD. Anything shown where it could grow
without end (a heading, a toast, a palette entry) is cut to a number of terminal cells with
:func:`shorten` / :func:`brief`; one-line table cells are ellipsized at their width.
"""

from __future__ import annotations

import re

from rich.cells import cell_len, set_cell_size
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
# C0 controls except tab/newline, DEL, C1 controls, bidi marks (ALM, LRM, RLM) and bidi
# embedding/override/isolate controls.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Line and paragraph separators: line breaks to some text layouts, so treated like newlines.
_SEPARATORS = re.compile(r"[\u2028\u2029]")
# Lone surrogates (JSON can carry them): a terminal cannot encode them.
_SURROGATES = re.compile(r"[\ud800-\udfff]")

#: How many cells of one piece of network text a one-off message (a toast, a heading) shows.
BRIEF = 200
#: The same for a sentence from a server (an error, a status message).
MESSAGE = 400


def clean(value: object, *, multiline: bool = False) -> str:
    """``value`` as text with escapes and control characters removed.

    Tabs become spaces; newlines are kept only when ``multiline`` (otherwise they become spaces).
    """
    text = value if isinstance(value, str) else str(value)
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub("", text)
    text = _SURROGATES.sub("\ufffd", text)
    text = _SEPARATORS.sub("\n", text)
    text = text.replace("\t", " ")
    if not multiline:
        text = text.replace("\r", "").replace("\n", " ")
    return text


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` terminal cells, ending with "…" when cut."""
    if limit <= 0:
        return ""
    if text.isascii():
        return text if len(text) <= limit else text[: limit - 1] + "…"
    if cell_len(text) <= limit:
        return text
    return set_cell_size(text, limit - 1).rstrip(" ") + "…"


def brief(value: object, limit: int = BRIEF) -> str:
    """``value`` cleaned to one line and cut to ``limit`` cells: for toasts and headings."""
    return shorten(clean(value), limit)


def plain(value: object, style: str = "", *, multiline: bool = False, limit: int | None = None) -> Text:
    """A rich Text showing ``value`` literally (no markup), cleaned; cut to ``limit`` cells
    when given (one-line text is also ellipsized to the width it is drawn at)."""
    text = clean(value, multiline=multiline)
    if limit is not None:
        text = shorten(text, limit)
    return Text(
        text,
        style=style,
        no_wrap=not multiline,
        overflow="fold" if multiline else "ellipsis",
    )


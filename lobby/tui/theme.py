"""The "lobby" theme, registered beside Textual's built-in themes."""

from __future__ import annotations

from textual.theme import Theme

LOBBY_THEME = Theme(
    name="lobby",
    primary="#3FA7D6",  # lobby blue: focus, headings
    secondary="#5E6AD2",
    accent="#F4A259",  # amber: countdowns and calls to action
    warning="#F4D35E",
    error="#E4572E",
    success="#59C9A5",
    foreground="#E6E8EB",
    background="#12161C",
    surface="#1A2029",
    panel="#222A35",
    dark=True,
    variables={
        "footer-key-foreground": "#F4A259",
        "block-cursor-text-style": "bold",
    },
)

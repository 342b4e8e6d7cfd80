"""What the console says about its settings once it is up: keys of the config file it does not
know, a theme it does not have, keymap entries naming no binding. Each is one plain sentence;
nothing is silently ignored."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from textual.binding import Binding, BindingType
from textual.dom import DOMNode

from lobby.config import config_file
from lobby.config_schema import Settings, unknown_keys

#: Where the console's bindings are declared: "module:Class" (imported when checking, after
#: start-up, so the check costs nothing before the first paint).
BINDING_HOMES = (
    "lobby.tui.app:LobbyApp",
    "lobby.tui.screens.home:HomeScreen",
    "lobby.tui.screens.ticket:TicketScreen",
    "lobby.tui.screens.teambattles:TeamBattlesScreen",
    "lobby.tui.screens.confirm:ConfirmScreen",
    "lobby.tui.screens.help:HelpScreen",
    "lobby.tui.widgets.roster_editor:RosterEditor",
    "lobby.tui.widgets.disputed_rules:RuleList",
    "lobby.tui.moderator.screen:ModeratorScreen",
    "lobby.tui.moderator.table:ModerationTable",
    "lobby.tui.moderator.detail:ModerationDetailScreen",
    "lobby.tui.moderator.statuses:StatusPicker",
    "lobby.tui.moderator.app:ModeratorApp",
)


def binding_ids(homes: Iterable[str] = BINDING_HOMES) -> set[str]:
    """Every binding id the console declares (a home that cannot be imported is skipped)."""
    found: set[str] = set()
    for home in homes:
        module, _, name = home.partition(":")
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        if isinstance(cls, type) and issubclass(cls, DOMNode):
            found |= _ids(cls.BINDINGS)
    return found


def _ids(bindings: Iterable[BindingType]) -> set[str]:
    return {b.id for b in bindings if isinstance(b, Binding) and b.id}


def problems(settings: Settings, themes: Iterable[str], *, known_ids: set[str] | None = None) -> list[str]:
    """One sentence per setting the console does not use."""
    found = []
    unknown = unknown_keys()
    if unknown:
        found.append(f"{config_file()}: unknown setting{'s' if len(unknown) > 1 else ''} ignored: {', '.join(unknown)}.")
    themes = sorted(themes)
    if settings.theme not in themes:
        found.append(f"No theme named {settings.theme!r}; using 'lobby' (themes: {', '.join(themes)}).")
    if not settings.keymap:
        return found
    ids = binding_ids() if known_ids is None else known_ids
    strangers = sorted(i for i in settings.keymap if i not in ids)
    if strangers:
        found.append(f"keymap: no binding with id {', '.join(strangers)} (f1 lists each screen's ids).")
    return found

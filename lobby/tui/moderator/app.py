"""`lobby moderate`: the moderator's screen as an app of its own.

The same :class:`~lobby.tui.moderator.screen.ModeratorScreen` can be pushed on the captain's
app; this app only hosts it, with its clock and theme.
"""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from lobby.core.clock import Clock, SystemClock
from lobby.moderation.board import Board
from lobby.moderation.sources import ModerationSource
from lobby.tui.theme import LOBBY_THEME


class ModeratorApp(App[None]):
    """Every live FlexMatch ticket and TeamBattles match, read-only."""

    TITLE = "lobby moderator"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="lobby.quit"),
        Binding("q", "quit", "Quit", id="lobby.moderator.quit"),
    ]

    def __init__(
        self,
        source: ModerationSource,
        *,
        clock: Clock | None = None,
        board: Board | None = None,
        window: float = 300.0,
        keep_finished: float = 300.0,
        still: bool = False,
    ) -> None:
        super().__init__()
        self.source = source
        self.clock: Clock = clock or SystemClock()
        self._board = board
        self._window = window
        self._keep_finished = keep_finished
        self.still = still
        if still:
            self.animation_level = "none"
        self.register_theme(LOBBY_THEME)
        self.theme = LOBBY_THEME.name

    def get_default_screen(self) -> Screen[None]:
        from lobby.tui.moderator.screen import ModeratorScreen

        return ModeratorScreen(
            self.source,
            clock=self.clock,
            board=self._board,
            window=self._window,
            keep_finished=self._keep_finished,
        )

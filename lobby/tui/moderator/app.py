"""`lobby moderate`: the moderator's screen as an app of its own.

The same :class:`~lobby.tui.moderator.screen.ModeratorScreen` can be pushed on the captain's
app; this app only hosts it, with its clock and theme.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen

from lobby.core.clock import Clock
from lobby.moderation.board import Board
from lobby.moderation.sources import ModerationSource
from lobby.tui.services import ConsoleApp
from lobby.tui.theme import LOBBY_THEME


class ModeratorApp(ConsoleApp):
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
        super().__init__(clock=clock, still=still)
        self.source = source
        self._board = board
        self._window = window
        self._keep_finished = keep_finished
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

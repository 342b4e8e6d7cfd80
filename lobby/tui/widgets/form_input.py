"""An Input that stops blinking when the app is asked to hold still (for snapshots)."""

from __future__ import annotations

from textual.widgets import Input

from lobby.tui.services import console_of


class FormInput(Input):
    def on_mount(self) -> None:
        console = console_of(self)
        if console is not None and console.still:
            self.cursor_blink = False

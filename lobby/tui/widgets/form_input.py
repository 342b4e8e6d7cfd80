"""An Input that stops blinking when the app is asked to hold still (for snapshots)."""

from __future__ import annotations

from textual.widgets import Input


class FormInput(Input):
    def on_mount(self) -> None:
        if getattr(self.app, "still", False):
            self.cursor_blink = False

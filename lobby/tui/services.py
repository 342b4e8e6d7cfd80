"""What the console's widgets and screens may ask of the app they run in.

A widget reads its app's clock (every countdown is deadline minus that clock's now), follows its
tick (countdowns repaint on it) and asks whether it must hold still (no blinking cursor, for
pictures that must not flake). An app that offers these is a :class:`ConsoleApp`; widgets reach
it through :func:`console_of`, typed, and still work, without the tick, in any other app.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import App
from textual.dom import DOMNode
from textual.signal import Signal

from lobby.core.clock import Clock, SystemClock


class ConsoleApp(App[None]):
    """An app that gives its widgets a clock, a tick and whether to hold still."""

    def __init__(self, *, clock: Clock | None = None, still: bool = False) -> None:
        super().__init__()
        #: Every countdown shows deadline - clock.now().
        self.clock: Clock = clock or SystemClock()
        #: No animation and no blinking cursors (for pictures that must not flake).
        self.still = still
        if still:
            self.animation_level = "none"
        #: Fired whenever countdowns should repaint from the clock.
        self.ticked: Signal[None] = Signal(self, "ticked")
        #: The keymap as given (binding id -> keys): what buttons and hints name.
        self.keymap: dict[str, str] = {}

    def set_keymap(self, keymap: Mapping[str, str]) -> None:
        super().set_keymap(keymap)
        self.keymap = dict(keymap)

    def update_keymap(self, keymap: Mapping[str, str]) -> None:
        super().update_keymap(keymap)
        self.keymap = {**self.keymap, **keymap}

    def key_for(self, owner: type[DOMNode], binding_id: str) -> str:
        """The key ``owner``'s binding ``binding_id`` answers to now (after the keymap)."""
        from lobby.tui.keys import key_for

        return key_for(owner, binding_id, self.keymap)


def console_of(node: DOMNode) -> ConsoleApp | None:
    """The ConsoleApp ``node`` runs in, or None in any other app."""
    app = node.app
    return app if isinstance(app, ConsoleApp) else None

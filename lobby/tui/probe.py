"""The start-up bench's probe (tests/bench/test_bench_startup.py): when the console first showed data.

With :data:`FIRST_PAINT_ENV` set to a file path, the app appends ``rows <time> <cpu>`` after the
first paint of the home screen showing offers; ``loaded <time> <cpu>`` after the first such
paint once the offers on screen are live, every backend's listed by the service
(:meth:`~lobby.tui.app.LobbyApp.live_data_shown`: by the backend itself, connected, or by the
early listing of start-up); and ``connected <time> <cpu>`` after the first such paint once every
backend is connected and has listed its offers itself, then exits (``time``: time.time();
``cpu``: time.process_time(), this process's CPU seconds so far).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lobby.tui.app import LobbyApp

FIRST_PAINT_ENV = "LOBBY_FIRST_PAINT_FILE"


class FirstPaintProbe:
    """Writes the marks of :data:`FIRST_PAINT_ENV`, when it is set."""

    def __init__(self, app: LobbyApp) -> None:
        self._app = app
        self._file = os.environ.get(FIRST_PAINT_ENV) or None
        self._rows = self._loaded = self._connected = False

    def home_shown(self, rows: int) -> None:
        """The home screen now shows ``rows`` offers."""
        app = self._app
        if self._file is None or not rows:
            return
        if not self._rows:
            self._rows = True
            app.call_after_refresh(self._mark, "rows")
        if app.live_data_shown() and not self._loaded:
            self._loaded = True
            app.call_after_refresh(self._mark, "loaded")
        if self._loaded and app.connecting is None and not app.following.loading() and not self._connected:
            self._connected = True
            app.call_after_refresh(self._mark, "connected")

    def _mark(self, what: str) -> None:
        import time

        if self._file is None:
            return
        with open(self._file, "a") as out:
            out.write(f"{what} {time.time()!r} {time.process_time()!r}\n")
        if what == "connected":
            self._file = None
            self._app.exit()

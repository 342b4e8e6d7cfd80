"""What the FlexMatch scheduler has to look at: written by whatever changes FlexMatch state,
read (and reset) by :class:`~lobby.emulator.flexmatch.scheduler.Scheduler`."""

from __future__ import annotations

from collections.abc import Callable

from lobby.emulator.store import Store


class Agenda:
    __slots__ = ("store", "poke", "dirty", "to_match", "jobs")

    def __init__(self, store: Store, poke: Callable[[], None]) -> None:
        self.store = store
        self.poke = poke
        #: Something the scheduler acts on changed since its last pass.
        self.dirty = True
        #: Configurations whose searching tickets changed since the matchmaker last looked
        #: (None: all of them, as after a start or a failed pass).
        self.to_match: set[str] | None = None
        #: Jobs run after each matchmaker pass (the demo bots); each returns its next due time.
        self.jobs: list[Callable[[float], float | None]] = []

    def match_soon(self, config_name: str) -> None:
        if self.to_match is not None:
            self.to_match.add(config_name)

    def changed(self) -> None:
        """State the scheduler acts on changed: run the matchmaker soon."""
        self.dirty = True
        self.store.after_commit(self.poke)

"""Choose the active roster and a prioritised bench from a team's members, by keyboard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from lobby.core.answers import BenchEntry, TeamRole
from lobby.tui.safe import clean
from lobby.tui.widgets.tables import ROW_KEYS

ROLE_WORDS = {TeamRole.CAPTAIN: "captain", TeamRole.CO_CAPTAIN: "co-captain", TeamRole.MEMBER: ""}


class RosterEditor(OptionList):
    """One line per member: ``[A]`` active, ``[B1]`` first on the bench, ``[ ]`` out.

    ``a`` puts the highlighted member on (or off) the active roster, ``b`` on (or off) the
    bench, ``enter`` cycles out -> active -> bench; shift+up/down (or ``[``/``]``) move a bench
    player up or down the priority order.
    """

    DEFAULT_CSS = """
    RosterEditor { height: auto; max-height: 10; border: none; padding: 0 0 0 1; background: $surface; }
    RosterEditor:focus { border: none; border-left: outer $primary; padding: 0; }
    RosterEditor { text-wrap: nowrap; text-overflow: ellipsis; }  /* one line per member */
    """

    HELP_TITLE: ClassVar[str] = "On the roster"

    BINDINGS: ClassVar[list[BindingType]] = [
        *ROW_KEYS,
        Binding("a", "toggle_active", "Active", id="lobby.roster.active"),
        Binding("b", "toggle_bench", "Bench", id="lobby.roster.bench"),
        Binding("shift+up,left_square_bracket", "move(-1)", "Bench up", id="lobby.roster.up"),
        Binding("shift+down,right_square_bracket", "move(1)", "Bench down", id="lobby.roster.down"),
    ]

    class Changed(Message):
        def __init__(self, editor: RosterEditor) -> None:
            super().__init__()
            self.editor = editor

        @property
        def control(self) -> RosterEditor:
            return self.editor

    def __init__(
        self,
        members: Mapping[str, TeamRole],
        *,
        names: Mapping[str, str] | None = None,
        active: Sequence[str] = (),
        bench: Sequence[str] = (),
        id: str | None = None,
    ) -> None:
        self.members = dict(members)
        self.names = dict(names or {})
        self.active: list[str] = [u for u in active if u in self.members]
        self.bench: list[str] = [u for u in bench if u in self.members and u not in self.active]
        super().__init__(*(Option(self._prompt(u), id=u) for u in self.members), id=id)

    def on_mount(self) -> None:
        self._highlight_first()

    def _highlight_first(self) -> None:
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    # --- what it holds -------------------------------------------------------------------------

    def bench_entries(self) -> tuple[BenchEntry, ...]:
        """The bench with priorities 1, 2, 3... in order (1 comes in first)."""
        return tuple(BenchEntry(u, float(i)) for i, u in enumerate(self.bench, start=1))

    def set_members(
        self,
        members: Mapping[str, TeamRole],
        names: Mapping[str, str] | None = None,
        *,
        active: Sequence[str] = (),
        bench: Sequence[str] = (),
    ) -> None:
        """Another team: its members, nobody chosen (or ``active`` and ``bench``, in order)."""
        self.members = dict(members)
        self.names = dict(names or {})
        self.active = [u for u in active if u in self.members]
        self.bench = [u for u in bench if u in self.members and u not in self.active]
        self.set_options(Option(self._prompt(u), id=u) for u in self.members)
        self._highlight_first()
        self.post_message(self.Changed(self))

    # --- drawing -------------------------------------------------------------------------------

    def _prompt(self, user: str) -> Text:
        if user in self.active:
            mark, style = "[A] ", "bold green"
        elif user in self.bench:
            mark, style = f"[B{self.bench.index(user) + 1}]", "bold yellow"
        else:
            mark, style = "[ ] ", "dim"
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{mark:<5}", style=style)
        text.append(clean(self.names.get(user, user)))
        if user in self.names:
            text.append(f"  {clean(user)}", style="dim")
        role = ROLE_WORDS.get(self.members[user], "")
        if role:
            text.append(f"  {role}", style="italic dim")
        return text

    def _redraw(self) -> None:
        for user in self.members:
            self.replace_option_prompt(user, self._prompt(user))
        self.post_message(self.Changed(self))

    def _current(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    # --- actions -------------------------------------------------------------------------------

    def action_toggle_active(self) -> None:
        user = self._current()
        if user is None:
            return
        if user in self.active:
            self.active.remove(user)
        else:
            if user in self.bench:
                self.bench.remove(user)
            self.active.append(user)
        self._redraw()

    def action_toggle_bench(self) -> None:
        user = self._current()
        if user is None:
            return
        if user in self.bench:
            self.bench.remove(user)
        else:
            if user in self.active:
                self.active.remove(user)
            self.bench.append(user)
        self._redraw()

    def action_move(self, step: int) -> None:
        user = self._current()
        if user is None or user not in self.bench:
            return
        i = self.bench.index(user)
        j = i + step
        if 0 <= j < len(self.bench):
            self.bench[i], self.bench[j] = self.bench[j], self.bench[i]
            self._redraw()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        user = event.option.id
        if user is None:
            return
        if user in self.active:
            self.action_toggle_bench()
        elif user in self.bench:
            self.bench.remove(user)
            self._redraw()
        else:
            self.action_toggle_active()

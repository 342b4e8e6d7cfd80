"""Map preference: none, PREFERRED (maps we want) or VETO (maps we do not want), from the pool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import RadioButton, RadioSet, SelectionList, Static
from textual.widgets.selection_list import Selection

from lobby.core.answers import MapPreferenceMode
from lobby.tui.safe import clean
from lobby.tui.widgets.tables import PickList

MODES: tuple[tuple[str, MapPreferenceMode | None], ...] = (
    ("No preference", None),
    ("Preferred", MapPreferenceMode.PREFERRED),
    ("Veto", MapPreferenceMode.VETO),
)


class MapPicker(Vertical):
    """The maps of the match mode's pool; unreleased maps are listed but cannot be chosen."""

    DEFAULT_CSS = """
    MapPicker { height: auto; }
    MapPicker > RadioSet { layout: horizontal; height: auto; width: auto; border: none; padding: 0; background: transparent; }
    MapPicker > RadioSet > RadioButton { width: auto; margin-right: 2; }
    MapPicker > SelectionList { height: auto; max-height: 8; border: none; padding: 0 0 0 1; background: $surface; }
    MapPicker > SelectionList:focus { border: none; border-left: outer $primary; padding: 0; }
    MapPicker > .none { color: $text-muted; }
    MapPicker.-no-mode > SelectionList { display: none; }
    """

    class Changed(Message):
        def __init__(self, picker: MapPicker) -> None:
            super().__init__()
            self.picker = picker

        @property
        def control(self) -> MapPicker:
            return self.picker

    def __init__(self, pool: Sequence[str], released: Mapping[str, bool], *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-no-mode")
        self.pool = list(pool)
        self.released = dict(released)

    def compose(self) -> ComposeResult:
        if not self.pool:
            yield Static("This mode takes no map choices.", classes="none")
            return
        with RadioSet(compact=True):
            for i, (label, _) in enumerate(MODES):
                yield RadioButton(label, value=i == 0, compact=True)
        selections = []
        for map_id in self.pool:
            released = self.released.get(map_id, False)
            prompt = Text(clean(map_id), no_wrap=True, overflow="ellipsis")
            if not released:
                prompt.append("  not released", style="italic dim")
            selections.append(Selection(prompt, map_id, False, disabled=not released))
        yield PickList(*selections)

    @property
    def mode(self) -> MapPreferenceMode | None:
        if not self.pool:
            return None
        index = self.query_one(RadioSet).pressed_index
        return MODES[index][1] if index >= 0 else None

    @property
    def maps(self) -> tuple[str, ...]:
        if not self.pool or self.mode is None:
            return ()
        chosen = set(self.query_one(SelectionList).selected)
        return tuple(m for m in self.pool if m in chosen)

    @property
    def mode_index(self) -> int | None:
        """The map preference chosen, as the index of its button (None: no map choices)."""
        if not self.pool:
            return None
        index = self.query_one(RadioSet).pressed_index
        return index if index >= 0 else None

    def restore(self, mode_index: int | None, maps: Sequence[str]) -> None:
        """Choose the map preference ``mode_index`` and ``maps`` again (a kept draft)."""
        if not self.pool:
            return
        buttons = list(self.query(RadioButton))
        if mode_index is not None and 0 <= mode_index < len(buttons):
            buttons[mode_index].value = True
            self.set_class(MODES[mode_index][1] is None, "-no-mode")
        chosen = self.query_one(SelectionList)
        for map_id in maps:
            if map_id in self.pool and self.released.get(map_id, False):
                chosen.select(map_id)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.set_class(self.mode is None, "-no-mode")
        self.post_message(self.Changed(self))

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        event.stop()
        self.post_message(self.Changed(self))

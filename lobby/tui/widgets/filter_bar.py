"""The "Open matches" filters: game, platform, region and match type."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.containers import Horizontal
from textual.message import Message

from lobby.tui.safe import clean
from lobby.tui.store import FILTER_FACTS


class FilterBar(Horizontal):
    """One compact Select per filterable fact; posts :class:`FilterBar.Changed`."""

    DEFAULT_CSS = """
    FilterBar { height: 1; display: none; padding: 0 0; }
    FilterBar.-shown { display: block; }
    FilterBar > Select { width: 1fr; margin: 0 1 0 0; }
    FilterBar SelectOverlay { text-wrap: nowrap; text-overflow: ellipsis; }  /* network values */
    """

    class Changed(Message):
        def __init__(self, values: dict[str, str | None]) -> None:
            super().__init__()
            self.values = values

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._choices: dict[str, tuple[str, ...]] = {}
        self._pending: tuple[Mapping[str, Sequence[str]], Mapping[str, str | None]] | None = None
        self.built = False

    async def build(self) -> None:
        """Mount the selects on first use: they cost start-up time, and most sessions never
        filter."""
        if self.built:
            return
        from textual.widgets import Select

        self.built = True
        await self.mount_all(
            Select[str]([], prompt=f"{label}: any", compact=True, id=f"filter-{name}")
            for name, label in FILTER_FACTS.items()
        )
        if self._pending is not None:
            self.set_choices(*self._pending)

    def set_choices(self, choices: Mapping[str, Sequence[str]], current: Mapping[str, str | None]) -> None:
        """Offer these values (from the open matches), keeping each current choice."""
        if not self.built:
            self._pending = ({k: tuple(v) for k, v in choices.items()}, dict(current))
            return
        from textual.widgets import Select

        for name in FILTER_FACTS:
            values = list(choices.get(name, ()))
            chosen = current.get(name)
            if chosen is not None and chosen not in values:
                values.append(chosen)
            values_t = tuple(values)
            if self._choices.get(name) == values_t:
                continue
            self._choices[name] = values_t
            select = self.query_one(f"#filter-{name}", Select)
            with select.prevent(Select.Changed):
                select.set_options([(Text(clean(v)), v) for v in values_t])
                if chosen is not None:
                    select.value = chosen

    def values(self) -> dict[str, str | None]:
        from textual.widgets import Select

        out: dict[str, str | None] = {}
        for name in FILTER_FACTS:
            value = self.query_one(f"#filter-{name}", Select).value
            out[name] = value if isinstance(value, str) else None
        return out

    def clear(self) -> None:
        from textual.widgets import Select

        for name in FILTER_FACTS:
            self.query_one(f"#filter-{name}", Select).clear()

    def on_select_changed(self, event: Message) -> None:
        event.stop()
        self.post_message(self.Changed(self.values()))

"""Command palette commands: jump to an offer, filter open matches, switch backend profile.

Offer titles and fact values come from the network, so hits are built as literal Text (the
palette would otherwise read a plain string as markup).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.markup import escape

from lobby.tui.safe import brief, clean
from lobby.tui.store import FILTER_FACTS, Key

if TYPE_CHECKING:
    from lobby.tui.app import LobbyApp
    from lobby.tui.screens.home import HomeScreen

#: (words to match, help, callback)
Command = tuple[str, str, Callable[[], object]]


class LobbyCommands(Provider):
    """Every command lobby adds to the palette."""

    @property
    def lobby(self) -> LobbyApp:
        return cast("LobbyApp", self.app)

    def _commands(self) -> Iterator[Command]:
        app = self.lobby
        from lobby.tui.screens.home import KIND_WORDS

        for entry in sorted(app.store, key=lambda e: (not e.is_open, e.offer.title, e.offer.id)):
            if not entry.is_open:
                continue
            kind = KIND_WORDS.get(entry.offer.kind, "Offer")
            yield (
                f"Jump to {kind.lower()}: {brief(entry.offer.title, 100)}",
                f"{kind} {brief(entry.offer.id, 100)}",
                partial(self._jump, entry.key),
            )
        for name, label in FILTER_FACTS.items():
            for value in app.store.fact_values(name):
                yield (
                    f"Filter open matches: {label} = {brief(value, 100)}",
                    "Show only open matches with this value",
                    partial(self._filter, name, value),
                )
        if app.filters.active:
            yield ("Clear the filters", "Show every open match again", self._clear_filters)
        if app.can_switch:
            for profile in app.profiles:
                if profile != app.profile:
                    yield (
                        f"Switch profile: {clean(profile)}",
                        "Leave the current backends and connect this profile's",
                        partial(app.switch_profile, profile),
                    )

    def _home(self) -> HomeScreen | None:
        from lobby.tui.screens.home import HomeScreen

        app = self.lobby
        while not isinstance(app.screen, HomeScreen) and len(app.screen_stack) > 1:
            app.pop_screen()
        return app.screen if isinstance(app.screen, HomeScreen) else None

    def _jump(self, key: Key) -> None:
        self._home()
        self.lobby.open_offer(key)

    async def _filter(self, name: str, value: str) -> None:
        home = self._home()
        if home is not None:
            await home.apply_filter(name, value)

    async def _clear_filters(self) -> None:
        home = self._home()
        if home is not None:
            for name in FILTER_FACTS:
                await home.apply_filter(name, None)

    async def discover(self) -> Hits:
        for words, help_text, callback in self._commands():
            yield DiscoveryHit(Text(words), callback, text=words, help=escape(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for words, help_text, callback in self._commands():
            score = matcher.match(words)
            if score > 0:
                yield Hit(score, _highlight(matcher, words), callback, text=words, help=escape(help_text))


def _highlight(matcher: Matcher, words: str) -> Text:
    """The matched letters highlighted, the rest literal."""
    text = Text(words)
    _, offsets = matcher.fuzzy_search.match(matcher.query, words)
    for offset in offsets:
        if not words[offset].isspace():
            text.stylize("bold reverse", offset, offset + 1)
    return text

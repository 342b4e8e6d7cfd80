"""`lobby` with no sub-command, and `lobby demo`'s console: the Textual app on real backends.

Backends are built here (the TUI only knows the OfferBackend Protocol). One that cannot be
built (no key, no running emulator) still appears in the app, failed, with the sentence saying
why, so the other backend stays usable.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING

from lobby.adapters.base import OfferBackend
from lobby.adapters.errors import BackendError
from lobby.domain.offers import Change, Offer

if TYPE_CHECKING:
    from lobby.config import Settings
    from lobby.tui.app import LobbyApp


class FailedBackend:
    """Stands for a backend that could not be built; every call says why."""

    def __init__(self, name: str, error: BackendError) -> None:
        self.name = name
        self.error = error

    async def list_offers(self) -> list[Offer]:
        raise self.error

    async def changes(self) -> AsyncIterator[Change]:
        raise self.error
        yield  # pragma: no cover - makes this an async generator

    async def accept(self, offer_id: str, answer: object) -> str:
        raise self.error

    async def reject(self, offer_id: str, answer: object) -> str:
        raise self.error

    async def aclose(self) -> None:
        return None


async def connect_profile(
    settings: Settings, name: str, *, emulator_url: str | None = None
) -> list[OfferBackend]:
    """The backends of profile ``name`` (FlexMatch, TeamBattles), each built or failed."""
    from lobby import paths
    from lobby.adapters import flexmatch, teambattles

    chosen = settings.model_copy(update={"profile": name})
    _, profile = chosen.active()
    url = emulator_url or (paths.read_emulator_announcement() if profile.kind == "emulator" else None)
    out: list[OfferBackend] = []
    try:
        out.append(await flexmatch.open_backend(profile, emulator_url=url))
    except BackendError as exc:
        out.append(FailedBackend("flexmatch", exc))
    try:
        out.append(teambattles.open_backend(chosen))
    except BackendError as exc:
        out.append(FailedBackend("teambattles", exc))
    return out


def build_app(settings: Settings, *, emulator_url: str | None = None) -> LobbyApp:
    """The app on the settings' profile; other profiles can be switched to from the palette."""
    from lobby.config import BUILTIN_PROFILES
    from lobby.tui.app import LobbyApp

    name, _ = settings.active()

    async def connect(profile: str) -> list[OfferBackend]:
        return await connect_profile(settings, profile, emulator_url=emulator_url)

    return LobbyApp(
        settings=settings,
        profile=name,
        profiles=sorted({*BUILTIN_PROFILES, *settings.profiles}),
        connect=connect,
    )


def demo_app(emulator_url: str, *, players: Iterable[str], key: str, user: str) -> LobbyApp:
    """The app on the embedded emulator of `lobby demo`, as the demo scenario's captain."""
    from lobby.adapters import flexmatch, teambattles
    from lobby.adapters.teambattles.keys import check_key
    from lobby.config import Profile, Settings
    from lobby.tui.app import LobbyApp

    players = list(players)

    async def connect(profile: str) -> Sequence[OfferBackend]:
        out: list[OfferBackend] = []
        try:
            out.append(await flexmatch.open_backend(Profile(kind="emulator"), emulator_url=emulator_url, players=players))
        except BackendError as exc:
            out.append(FailedBackend("flexmatch", exc))
        client = teambattles.TeamBattlesClient(emulator_url + "/api/v1", check_key(key, "the demo scenario"))
        backend = teambattles.TeamBattlesBackend(
            client, requests=teambattles.RequestStore("demo"), user=user, feed_url=emulator_url
        )
        out.append(backend)
        return out

    return LobbyApp(settings=Settings(), profile="demo", connect=connect)


def demo_identity(scenario_path=None) -> tuple[list[str], str, str]:
    """(FlexMatch players, TeamBattles key, TeamBattles user) of the demo scenario's captain."""
    from lobby.emulator.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    tb = scenario.teambattles
    keys = [k for k in tb.keys if k.owner == tb.you and k.kind == "personal" and k.plan != "free"]
    if not keys:
        raise ValueError("the scenario has no personal, paid key for its captain")
    return scenario.flexmatch.human_player_ids, keys[0].key, tb.you


def run_app(args: argparse.Namespace | None = None) -> int:
    """`lobby`: open the console on the configured profile."""
    from lobby.cli import CliError
    from lobby.config import Settings

    settings = Settings()
    try:
        settings.active()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    build_app(settings).run()
    return 0

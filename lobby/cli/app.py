"""`lobby` with no sub-command, and `lobby demo`'s console: the Textual app on real backends.

The backends come from the composition root (:mod:`lobby.cli.profiles`); the TUI only knows the
OfferBackend Protocol. Start-up (tests/bench/test_bench_startup.py measures it): the console
paints before any adapter is imported, and the profile's stream imports them in a worker thread
(see :mod:`lobby.cli.profiles`). Both adapters talk through httpx's own transport over one TLS
context (lobby.net.transports), so aiohttp is never imported by the console; optional imports
the console never needs are skipped (:data:`UNUSED_IMPORTS`), and the cyclic garbage collector
waits until start-up is over (:func:`start_up_over`). On a terminal, the first frame does not
wait for pydantic either: it is painted with the settings' first look
(:func:`lobby.config.first_look`), and the whole settings are validated right after it, before
connecting (:func:`run_app`); meanwhile a helper process lists the offers on the second core
(:mod:`lobby.cli.early`).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from lobby.cli.profiles import emulator_feed, emulator_location, moderation_source, stream_demo, stream_profile

if TYPE_CHECKING:
    import argparse

    import httpx

    from lobby.cli.early import EarlyListing

    from lobby.config import FirstLook
    from lobby.config_schema import Settings
    from lobby.tui.switching import Connected
    from lobby.moderation.sources import ModerationSource
    from lobby.tui.app import LobbyApp


def build_app(
    settings: Settings | None = None,
    *,
    first_look: FirstLook | None = None,
    load_settings: Callable[[], Settings] | None = None,
    emulator_url: str | None = None,
    on_started: Callable[[], object] | None = None,
    early: EarlyListing | None = None,
) -> LobbyApp:
    """The app on the settings' profile; other profiles can be switched to from the palette.
    The settings are given, or validated by ``load_settings`` after a first frame painted
    with their ``first_look`` (see :class:`~lobby.tui.app.LobbyApp`). ``early``: the early
    listing of the profile (:mod:`lobby.cli.early`), shown as it arrives; its TeamBattles
    reads answer the first connection's own."""
    from lobby import paths
    from lobby.tui.app import LobbyApp
    from lobby.tui.store import LAST_KNOWN_FILE

    if settings is not None:
        name, _ = settings.active()
        profiles = settings.profile_names()
    elif first_look is not None and load_settings is not None:
        name, profiles = first_look.profile, []  # the profiles come with the settings
    else:
        raise TypeError("build_app needs the settings, or their first look and how to load them")

    made: list[LobbyApp] = []  # the app, once built (its settings come after the first frame)

    def known() -> Settings | None:
        return settings if settings is not None else made[0].settings if made else None

    def validated() -> Settings:
        """The settings the backends are built from (connecting waits for them)."""
        found = known()
        if found is None:
            raise ValueError("the settings are not validated yet")
        return found

    unused = early  # its recorded reads answer the first connection of its profile, once

    def connect(profile: str) -> AsyncIterator[Connected]:
        nonlocal unused
        replay = unused if unused is not None and unused.profile == profile else None
        if replay is None:
            return stream_profile(validated(), profile, emulator_url=emulator_url)
        unused = None

        def replaying(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
            from lobby.net.transports import PrimedTransport

            return PrimedTransport(inner, replay.take_responses)

        return stream_profile(validated(), profile, emulator_url=emulator_url, teambattles_transport=replaying)

    def where(profile: str | None) -> str | None:
        if known() is not None or first_look is None:
            return emulator_location(validated(), profile)
        # Before the settings are validated: where the emulator runs, for a profile that the
        # first look says is an emulator's (as emulator_location does for a validated one).
        return paths.read_emulator_announcement() if first_look.kind(profile) == "emulator" else None

    app = LobbyApp(
        settings=settings,
        first_look=first_look,
        load_settings=load_settings,
        profile=name,
        profiles=profiles,
        connect=connect,
        moderation=lambda profile: moderation_source(validated(), profile, emulator_url=emulator_url),
        on_started=on_started,
        where=None if emulator_url else where,
        last_known=paths.state_dir() / LAST_KNOWN_FILE,
        early=early,
    )
    made.append(app)
    return app


def demo_app(emulator_url: str, *, players: Iterable[str], key: str, user: str) -> LobbyApp:
    """The app on the embedded emulator of `lobby demo`, as the demo scenario's captain."""
    from lobby.config_schema import Settings
    from lobby.tui.app import LobbyApp

    captain = list(players)

    def connect(profile: str) -> AsyncIterator[Connected]:
        return stream_demo(emulator_url, players=captain, key=key, user=user)

    def moderation(profile: str | None) -> ModerationSource:
        return emulator_feed(emulator_url)

    return LobbyApp(settings=Settings.load(), profile="demo", connect=connect, moderation=moderation)


def demo_identity(scenario_path: Path | None = None) -> tuple[list[str], str, str]:
    """(FlexMatch players, TeamBattles key, TeamBattles user) of the demo scenario's captain."""
    from lobby.emulator.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    tb = scenario.teambattles
    keys = [k for k in tb.keys if k.owner == tb.you and k.kind == "personal" and k.plan != "free"]
    if tb.you is None or not keys:
        raise ValueError("the scenario has no personal, paid key for its captain")
    return scenario.flexmatch.human_player_ids, keys[0].key, tb.you


def start_up_over() -> None:
    """The console is up: the cyclic garbage collector, off since the process started (see
    :func:`lobby.cli.main`), runs again, and what start-up built (modules, classes, styles:
    hundreds of thousands of objects that live as long as the process) stays out of every
    later collection."""
    gc.freeze()
    gc.enable()


#: Optional imports of the console's libraries that the console never needs: httpcore imports
#: trio whenever it is installed, to support trio event loops (the console runs on asyncio), and
#: h2 for HTTP/2 (no lobby client asks for it), and httpx its own command line (click,
#: pygments) whenever those are. About 90 ms of start-up CPU.
UNUSED_IMPORTS = ("trio", "h2", "httpx._main")

#: pydantic's documented switch for its plugins (entry points of the "pydantic" group): the
#: console uses none, and looking for them scans every installed distribution's metadata when
#: the first model is built, about 15 ms of start-up CPU here. A value the user set is kept.
PYDANTIC_PLUGINS_SWITCH = ("PYDANTIC_DISABLE_PLUGINS", "__all__")


def skip_unused_imports() -> None:
    """Make :data:`UNUSED_IMPORTS` fail as if not installed, and skip pydantic's search for
    plugins (:data:`PYDANTIC_PLUGINS_SWITCH`), in this process (the console's)."""
    for name in UNUSED_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "not installed"
    os.environ.setdefault(*PYDANTIC_PLUGINS_SWITCH)


def on_a_terminal() -> bool:
    """Whether the console would paint on a terminal (it reads stdin and draws on stderr)."""
    return all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stderr))


def run_app(args: argparse.Namespace | SimpleNamespace | None = None) -> int:
    """`lobby`: open the console on the configured profile (the collector is off until
    start_up_over(): see :func:`lobby.cli.main`).

    On a terminal the first frame is painted with the settings' first look, and the settings
    are validated right after it: a config file that cannot be read stops the console before
    it starts, settings that are not valid once it has started (it exits), and either is said
    in one line, by :func:`lobby.cli.main`, as when the settings are validated first. Without
    a terminal (nothing to paint), they are validated first."""
    skip_unused_imports()
    from lobby.cli import CliError, configured_settings

    if not on_a_terminal():
        build_app(configured_settings(), on_started=start_up_over).run()
        return 0
    from lobby.config import ConfigError, first_look

    try:
        look = first_look()
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    from lobby.cli.early import start_early_listing

    early = start_early_listing(look.profile)
    app = build_app(first_look=look, load_settings=configured_settings, on_started=start_up_over, early=early)
    try:
        app.run()
    finally:
        if early is not None:
            early.close()
    if app.settings_error is not None:
        raise app.settings_error
    return 0

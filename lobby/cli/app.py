"""`lobby` with no sub-command, and `lobby demo`'s console: the Textual app on real backends.

Backends are built here (the TUI only knows the OfferBackend Protocol). One that cannot be
built (no key, no running emulator) still appears in the app, failed, with the sentence saying
why, so the other backend stays usable.

Start-up (tests/bench/test_bench_startup.py measures it): the console paints before any
adapter is imported. The adapter packages (httpx, pydantic wire models, botocore: most of
lobby's import time) are then imported in a worker thread, TeamBattles first (the lighter), and
each backend is handed to the app as soon as it is built, so TeamBattles offers show while
FlexMatch is still loading (FlexMatch is built once they are on screen). Both talk through
httpx's own transport over one TLS context (lobby.net.transports), so aiohttp is never
imported by the console; optional imports the console never needs are skipped
(:data:`UNUSED_IMPORTS`), and the cyclic garbage collector waits until start-up is over
(:func:`start_up_over`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from lobby.core.backend import NO_CAPABILITIES
from lobby.core.errors import BackendError

if TYPE_CHECKING:
    from types import ModuleType

    from lobby.config import Profile, Settings
    from lobby.core.backend import OfferBackend
    from lobby.core.offers import Change, Offer
    from lobby.tui.app import LobbyApp

TEAMBATTLES = "lobby.teambattles.connect"
FLEXMATCH = "lobby.flexmatch.connect"

T = TypeVar("T")


class FailedBackend:
    """Stands for a backend that could not be built; every call says why."""

    def __init__(self, name: str, error: BackendError) -> None:
        self.name = name
        self.error = error
        self.capabilities = NO_CAPABILITIES

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


def _import(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(name)


async def _in_thread(work: Callable[[], T]) -> T:
    """Run blocking start-up work (imports, files, TLS set-up) off the event loop."""
    return await asyncio.to_thread(work)


async def _built(name: str, build: Callable[[], OfferBackend]) -> OfferBackend:
    """The backend ``build`` makes in a worker thread, or a FailedBackend saying why not."""
    try:
        return await _in_thread(lambda: _opened(build()))
    except BackendError as exc:
        return FailedBackend(name, exc)


def _opened(backend: OfferBackend) -> OfferBackend:
    """``backend`` with its local records (TeamBattles "my requests") opened already, in this
    worker thread: the first opening creates the file and its tables, disk writes the event
    loop would otherwise wait for before showing the first offers."""
    records = getattr(getattr(backend, "requests", None), "all", None)
    if callable(records):
        try:
            records()
        except Exception:  # a broken local record: the app copes with it when it reads them
            pass
    return backend


async def _flexmatch(
    profile: Profile, *, emulator_url: str | None, players: Iterable[str] | None = None
) -> OfferBackend:
    """The FlexMatch backend, its adapter imported in a worker thread (botocore)."""
    flexmatch = await _in_thread(lambda: _import(FLEXMATCH))
    # httpx's own transport, which TeamBattles has loaded already (with its TLS context): these
    # few calls gain nothing from the faster aiohttp transport the adapter picks by default,
    # whose import alone costs more start-up time than the whole TeamBattles adapter.
    from lobby.net.transports import shared_transport

    try:
        backend: OfferBackend = await flexmatch.open_backend(
            profile, emulator_url=emulator_url, players=players, transport=await _in_thread(shared_transport)
        )
    except BackendError as exc:
        return FailedBackend("flexmatch", exc)
    return backend


async def stream_profile(
    settings: Settings, name: str, *, emulator_url: str | None = None
) -> AsyncIterator[OfferBackend]:
    """The backends of profile ``name``, each built or failed, each as soon as it is ready:
    TeamBattles, then FlexMatch. An unknown profile raises ValueError before any is built."""
    from lobby import paths

    chosen = settings.model_copy(update={"profile": name})
    _, profile = chosen.active()

    def teambattles() -> OfferBackend:
        backend: OfferBackend = _import(TEAMBATTLES).open_backend(chosen)
        return backend

    yield await _built("teambattles", teambattles)
    url = emulator_url
    if url is None and profile.kind == "emulator":
        url = paths.read_emulator_announcement()
    yield await _flexmatch(profile, emulator_url=url)


def moderation_source(settings: Settings, name: str | None, *, emulator_url: str | None = None):
    """What the moderator's view watches on profile ``name``: the emulator's event stream, or the
    profile's SQS queue of FlexMatch notifications; None when the profile has neither."""
    from lobby import paths

    chosen = settings.model_copy(update={"profile": name}) if name else settings
    _, profile = chosen.active()
    if profile.kind == "emulator":
        url = emulator_url or paths.read_emulator_announcement()
        if not url:
            raise ValueError("No emulator is running: start `lobby demo` or `lobby emulator`.")
        from lobby.moderation.sources import EmulatorSource

        return EmulatorSource(url)
    queue = profile.gamelift.notifications_queue
    if queue:
        from lobby.moderation.sqs import SqsSource

        return SqsSource(queue, region=profile.gamelift.region, aws_profile=profile.gamelift.aws_profile)
    return None


def build_app(
    settings: Settings, *, emulator_url: str | None = None, on_started: Callable[[], object] | None = None
) -> LobbyApp:
    """The app on the settings' profile; other profiles can be switched to from the palette."""
    from lobby.config import BUILTIN_PROFILES
    from lobby.tui.app import LobbyApp

    name, _ = settings.active()

    def connect(profile: str) -> AsyncIterator[OfferBackend]:
        return stream_profile(settings, profile, emulator_url=emulator_url)

    return LobbyApp(
        settings=settings,
        profile=name,
        profiles=sorted({*BUILTIN_PROFILES, *settings.profiles}),
        connect=connect,
        moderation=lambda profile: moderation_source(settings, profile, emulator_url=emulator_url),
        on_started=on_started,
    )


def demo_app(emulator_url: str, *, players: Iterable[str], key: str, user: str) -> LobbyApp:
    """The app on the embedded emulator of `lobby demo`, as the demo scenario's captain."""
    from lobby.config import Profile, Settings
    from lobby.tui.app import LobbyApp

    players = list(players)

    async def connect(profile: str) -> AsyncIterator[OfferBackend]:
        def teambattles() -> OfferBackend:
            tb = _import(TEAMBATTLES)
            from lobby.net.transports import shared_transport
            from lobby.teambattles.keys import check_key

            client = tb.TeamBattlesClient(
                emulator_url + "/api/v1", check_key(key, "the demo scenario"), transport=shared_transport()
            )
            backend: OfferBackend = tb.TeamBattlesBackend(
                client, requests=tb.RequestStore("demo"), user=user, feed_url=emulator_url
            )
            return backend

        yield await _built("teambattles", teambattles)
        yield await _flexmatch(Profile(kind="emulator"), emulator_url=emulator_url, players=players)

    def moderation(profile: str | None):
        from lobby.moderation.sources import EmulatorSource

        return EmulatorSource(emulator_url)

    return LobbyApp(settings=Settings(), profile="demo", connect=connect, moderation=moderation)


def demo_identity(scenario_path=None) -> tuple[list[str], str, str]:
    """(FlexMatch players, TeamBattles key, TeamBattles user) of the demo scenario's captain."""
    from lobby.emulator.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    tb = scenario.teambattles
    keys = [k for k in tb.keys if k.owner == tb.you and k.kind == "personal" and k.plan != "free"]
    if not keys:
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


def skip_unused_imports() -> None:
    """Make :data:`UNUSED_IMPORTS` fail as if not installed, in this process (the console's)."""
    for name in UNUSED_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "not installed"


def run_app(args: argparse.Namespace | None = None) -> int:
    """`lobby`: open the console on the configured profile (the collector is off until
    start_up_over(): see :func:`lobby.cli.main`)."""
    skip_unused_imports()
    from lobby.cli import CliError
    from lobby.config import Settings

    settings = Settings()
    try:
        settings.active()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    build_app(settings, on_started=start_up_over).run()
    return 0

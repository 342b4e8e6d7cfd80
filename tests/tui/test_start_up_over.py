"""The end of the console's start-up: ``on_started`` is called once, when the first profile is
connected (or after STARTED_AT_MOST seconds), and `lobby` keeps the cyclic garbage collector
off only until then."""

from __future__ import annotations

import asyncio
import gc

from doubles import T0, FixedBackend, demo_offers

import lobby.cli
import lobby.cli.app
from lobby.core.clock import FrozenClock
from lobby.tui import app as app_module
from lobby.tui.app import LobbyApp

HANG = 5


async def until(pilot, condition) -> None:
    async with asyncio.timeout(HANG):
        while not condition():
            await pilot.pause(0.02)


async def test_on_started_comes_once_after_every_backend_of_the_first_profile():
    release = asyncio.Event()
    started: list[list[str]] = []
    flex, tb = demo_offers()

    async def connect(profile: str):
        yield FixedBackend("teambattles", tb)
        await release.wait()
        yield FixedBackend("flexmatch", flex)

    app = LobbyApp(
        clock=FrozenClock(T0),
        profile="bench",
        connect=connect,
        still=True,
        on_started=lambda: started.append(sorted(b.name for b in app.backends)),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.store.open_matches())
        await pilot.pause(0.1)
        assert started == []  # FlexMatch is still being connected
        release.set()
        await until(pilot, lambda: started)
        await app.switch_profile("bench").wait()  # a later switch is no start-up
        await pilot.pause(0.1)
    assert started == [["flexmatch", "teambattles"]]


async def test_on_started_comes_at_the_latest_after_its_bound(monkeypatch):
    monkeypatch.setattr(app_module, "STARTED_AT_MOST", 0.05)
    started: list[bool] = []

    async def connect(profile: str):
        yield FixedBackend("teambattles", hang=True)
        await asyncio.Event().wait()  # FlexMatch never comes
        yield FixedBackend("flexmatch")

    app = LobbyApp(clock=FrozenClock(T0), profile="bench", connect=connect, still=True, on_started=lambda: started.append(True))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: started)
        assert app.connecting == "bench"
    assert started == [True]


def test_the_console_starts_with_the_collector_off_and_leaves_it_on(monkeypatch):
    seen: list[bool] = []
    monkeypatch.setattr(lobby.cli.app, "run_app", lambda args: seen.append(gc.isenabled()) or 0)
    assert gc.isenabled()
    assert lobby.cli.main([]) == 0
    assert seen == [False]
    assert gc.isenabled()


def test_start_up_over_turns_the_collector_on_and_sets_start_up_objects_aside():
    gc.disable()
    try:
        lobby.cli.app.start_up_over()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_the_console_skips_the_optional_imports_it_never_uses():
    """Checked in a child process: the console's own process is the only one it changes."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from lobby.cli.app import skip_unused_imports\n"
        "skip_unused_imports()\n"
        "import httpx, httpcore._synchronization as sync\n"
        "httpx.AsyncClient()\n"
        "print(sync.trio is None, 'click' in sys.modules, 'pygments' in sys.modules, 'hpack' in sys.modules)\n"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["True", "False", "False", "False"]

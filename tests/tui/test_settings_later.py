"""The console's first frame does not wait for the settings' schema: it is painted with their
first look (lobby.config.first_look), the settings are validated right after it, what they say
otherwise is applied, connecting waits for them, and settings that are not valid end the
console with the same one line as when they are validated first."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from doubles import T0, FixedBackend, demo_offers, until

from lobby.config import FirstLook, config_file, first_look
from lobby.config_schema import Settings
from lobby.core.clock import FrozenClock
from lobby.tui.app import LobbyApp
from lobby.tui.store import LastKnown

HANG = 30.0  # seconds: a guard against a console that never exits, not a timing


def write_config(text: str) -> None:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


async def test_the_validated_settings_are_applied_and_connecting_waits_for_them():
    write_config(
        'theme = "textual-light"\nvisual_only = true\nreminders = [60]\n'
        '[keymap]\n"lobby.home.filter" = "f"\n[profiles.bench]\nkind = "emulator"\n'
    )
    release = threading.Event()
    seen_when_connecting: list[Settings | None] = []
    flex, tb = demo_offers()

    def load() -> Settings:
        release.wait(HANG)
        return Settings.load()

    async def connect(profile: str):
        seen_when_connecting.append(app.settings)
        yield FixedBackend("teambattles", tb)
        yield FixedBackend("flexmatch", flex)

    # What a first look that disagrees with the file would have said (the environment of
    # another moment): the validated settings have the last word.
    look = FirstLook(profile="bench", theme="textual-dark", keymap={"lobby.home.filter": "g"})
    app = LobbyApp(clock=FrozenClock(T0), first_look=look, load_settings=load, connect=connect, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        assert app.theme == "textual-dark" and app.settings is None and seen_when_connecting == []
        assert app.connecting == "bench" and not app.backends
        release.set()
        await until(pilot, lambda: app.store.open_matches() and app.connecting is None)
        assert len(seen_when_connecting) == 1 and seen_when_connecting[0] is app.settings
        assert app.theme == "textual-light"
        assert app.key_for(type(app.screen), "lobby.home.filter") == "f"
        assert app.alerts.visual_only and tuple(app.alerts.leads) == (60.0,)
        assert app.profiles == ["bench", "emulator"]


async def test_a_profile_the_first_look_got_wrong_is_put_right_before_connecting(tmp_path):
    """The first look said "bench" (its last-known offers shown), the validated settings say
    "other": the console connects "other", with "other"'s last-known offers instead."""
    write_config('profile = "other"\n[profiles.bench]\nkind = "emulator"\n[profiles.other]\nkind = "emulator"\n')
    flex, tb = demo_offers()
    kept = LastKnown(tmp_path / "offers.json")
    kept.save(LastKnown.identity("bench", None), [("teambattles", tb[1])])
    kept.save(LastKnown.identity("other", None), [("teambattles", tb[2])])
    connected: list[str] = []
    go_on = asyncio.Event()

    async def connect(profile: str):
        connected.append(profile)
        await go_on.wait()
        yield FixedBackend("teambattles", tb)

    release = threading.Event()

    def load() -> Settings:
        release.wait(HANG)
        return Settings.load()

    app = LobbyApp(
        clock=FrozenClock(T0),
        first_look=FirstLook(profile="bench"),
        load_settings=load,
        connect=connect,
        last_known=tmp_path / "offers.json",
        still=True,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        assert [e.offer.id for e in app.store.open_matches()] == [tb[1].id] and app.profile == "bench"
        release.set()
        await until(pilot, lambda: connected)
        assert connected == ["other"] and app.connecting == "other"
        assert [e.offer.id for e in app.store.open_matches()] == [tb[2].id]  # other's, still refreshing
        go_on.set()
        await until(pilot, lambda: app.connecting is None)
        assert connected == ["other"] and app.profile == "other"


async def test_settings_that_are_not_valid_end_the_console_with_the_reason():
    write_config("reminders = [30, -5]\n")
    app = LobbyApp(first_look=first_look(), load_settings=Settings.load, connect=lambda profile: [], still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.settings_error is not None)
    assert app.return_code == 1 and app.settings is None
    assert "reminders" in str(app.settings_error)


def run_on_a_terminal(env: dict[str, str]) -> tuple[int, bytes]:
    """`lobby` on a fresh pseudo-terminal, until it exits: its status and all it wrote."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lobby"], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        status = proc.wait(HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
        os.close(master)
    return status, b"".join(chunks)


@pytest.mark.parametrize(
    ("text", "said", "painted"),
    [
        # Read before the first frame: the console does not start.
        ("[profiles.x\n", "lobby: {file}:1:", False),
        # Known once validated, after the first frame: the console ends.
        (
            "reminders = [30, -5]\n",
            "lobby: the lobby settings are invalid at reminders: Value error, each reminder is a number of "
            "seconds above 0 and at most 3600, e.g. [30, 10]",
            True,
        ),
        ('profile = "nope"\n', "lobby: no profile named 'nope' (known: emulator)", True),
    ],
)
def test_on_a_terminal_a_bad_config_is_still_one_line(text, said, painted):
    write_config(text)
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(Path(__file__).parents[2])}
    started = time.monotonic()
    status, output = run_on_a_terminal(env)
    assert time.monotonic() - started < HANG
    assert status == 1
    text_out = output.decode(errors="replace")
    line = said.format(file=config_file())
    assert line in text_out and "Traceback" not in text_out
    assert ("\x1b[?1049h" in text_out) is painted
    if painted:  # the line comes once the console has given the screen back
        assert text_out.rindex(line) > text_out.rindex("\x1b[?1049l")


def test_the_first_frame_comes_before_pydantic_is_imported():
    """In a process of its own, as `lobby` starts: the home is on screen before the settings'
    schema (pydantic) is imported, and the validated settings come after."""
    script = (
        "import asyncio, sys\n"
        "from lobby.cli import configured_settings\n"
        "from lobby.cli.app import build_app\n"
        "from lobby.config import first_look\n"
        "app = build_app(first_look=first_look(), load_settings=configured_settings)\n"
        "seen = []\n"
        "shown = app.home_shown\n"
        "def home_shown(rows):\n"
        "    seen.append('pydantic' in sys.modules)\n"
        "    shown(rows)\n"
        "app.home_shown = home_shown\n"
        "async def main():\n"
        "    async with app.run_test() as pilot:\n"
        "        async with asyncio.timeout(30):\n"
        "            while app.settings is None:\n"
        "                await pilot.pause(0.02)\n"
        "asyncio.run(main())\n"
        "print(seen[0], 'pydantic' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=HANG)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "True"]

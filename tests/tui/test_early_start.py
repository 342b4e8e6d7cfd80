"""The early listing in real processes: `lobby` on a terminal forks its helper, which lists the
emulator's offers while the console paints, and leaves nothing behind (lobby.cli.early).

The emulator runs in its own process (`lobby emulator`), the console on a pseudo-terminal, as
in the start-up bench (whose helpers these tests borrow).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lobby.tui.probe import FIRST_PAINT_ENV
from tests.bench.test_bench_startup import LOBBY_MARKER, emulator_home, spawn_on_pty

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="no early listing here")

ROOT = Path(__file__).resolve().parents[2]
HANG = 60.0  # a guard against a hang, not a timing

LISTING = textwrap.dedent(
    """
    import json, os, select, sys
    from lobby.cli.early import start_early_listing

    # Its own priority and a long deadline: what it lists is checked here, not how fast, and
    # on a machine busy with other tests a helper below their priority may wait its turn.
    early = start_early_listing(sys.argv[1], niceness=0, deadline=60)
    listed = {}
    while not early.finished:
        select.select([early.fileno()], [], [], 60)
        for one in early.take():
            listed[one.backend] = [offer.id for offer in one.offers]
    responses = early.take_responses()
    pid = early._pid
    early.close()
    try:
        os.waitpid(pid, os.WNOHANG)
        reaped = False
    except ChildProcessError:
        reaped = True
    print(json.dumps({"complete": early.complete, "listed": listed, "responses": len(responses),
                      "again": len(early.take_responses()), "reaped": reaped}))
    """
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    with emulator_home(tmp_path_factory.mktemp("early")) as (home, env):
        yield home, {**env, "PYTHONPATH": str(ROOT)}


def listing(env: dict[str, str], profile: str = "bench") -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", LISTING, profile], capture_output=True, text=True, env=env, timeout=HANG, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_the_helper_lists_every_backend_records_teambattles_reads_and_is_reaped(home) -> None:
    _, env = home
    found = listing(env)
    listed = found["listed"]
    assert found["complete"] is True and found["reaped"] is True
    assert isinstance(listed, dict) and set(listed) == {"teambattles", "flexmatch"}
    assert listed["teambattles"], "the demo scenario has open matches and challenges for its captain"
    # Every read of TeamBattles' listing is there to be replayed, and handed over once.
    assert isinstance(found["responses"], int) and found["responses"] >= 3 and found["again"] == 0


def test_a_helper_whose_settings_are_not_valid_lists_nothing_and_ends(home, tmp_path: Path) -> None:
    _, env = home
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text('profile = "bench"\nreminders = [0]\n[profiles.bench]\nkind = "emulator"\n')
    found = listing({**env, "LOBBY_CONFIG_DIR": str(config)})
    assert found == {"complete": False, "listed": {}, "responses": 0, "again": 0, "reaped": True}


def test_an_unknown_profile_lists_nothing_and_ends(home) -> None:
    _, env = home
    found = listing(env, "nowhere")
    assert found["complete"] is False and found["listed"] == {} and found["reaped"] is True


def _processes_with(marker: str) -> list[int]:
    """The processes whose environment holds ``marker`` (this machine's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="no /proc to look for the helper in")
def test_lobby_on_a_terminal_shows_live_data_from_the_early_listing_and_leaves_no_helper(
    home, tmp_path: Path
) -> None:
    _, env = home
    marker = f"LOBBY_TEST_MARK={uuid.uuid4().hex}"
    name, value = marker.split("=")
    probe = tmp_path / "marks"
    run = spawn_on_pty(
        [sys.executable, "-m", "lobby"], {**env, FIRST_PAINT_ENV: str(probe), name: value}, probe, tmp_path
    )
    # The probe's "loaded": the first paint with live data, which the early listing brings
    # before the console's own backends are connected (lobby.tui.app.live_data_shown); then
    # "connected", once they have listed themselves.
    assert list(run.marks) == ["rows", "loaded", "connected"]
    assert run.marks["rows"] <= run.marks["loaded"] <= run.marks["connected"]
    assert run.seen(LOBBY_MARKER) is not None
    assert b"Traceback" not in run.output
    assert _processes_with(marker) == []  # the console stopped and reaped its helper

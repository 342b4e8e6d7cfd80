"""The console's start-up figure (run with `make bench`; prints, asserts no timings).

Time from process start to the first painted home screen with data: `lobby` (the console on a
configured emulator profile, FlexMatch and TeamBattles) against a bare Textual app that paints a
DataTable with a few rows, measured in the same run, runs alternating. Two figures, two targets:

- first paint with data: the last-known offers of the previous run (kept in the state
  directory), shown marked as refreshing before any backend answers. Target: <= 1.3x bare;
- live data: the offers on screen are every backend's live listing (the bare app's one paint
  counts for both): listed by the backend itself, or by the early listing, which a helper
  process of the console makes on the other core while it paints (lobby.cli.early). Target:
  <= 2.0x bare.

`lobby` runs with the last-known offers of the run before it; `lobby-cold` has them removed
before each run (a first start ever: its first data is live data), for comparison.

- The emulator (`lobby emulator --bots`) runs in its own process, started once, before the runs.
- Each app runs as a child process on its own pseudo-terminal (120x40), as a person would run it.
- Both apps honour the same probe, the LOBBY_FIRST_PAINT_FILE environment variable: after a
  paint they append ``<mark> <time.time()>`` to that file, "rows" after the first paint showing
  data, "loaded" after the first one with live data, "connected" after the first one once the
  console's own backends have all listed (the bare app writes all three after its first
  paint), and exit after the last. A figure is a mark minus the time taken just
  before spawning the child. The app's CPU time at each mark is printed too: on a busy machine
  it moves far less than wall time, so it is the better guide when comparing two versions.
- Every run's terminal output is kept and must contain the data (the bare app's rows, lobby's
  "Open matches (N)"-style section titles, which count rows only when there are some); the time
  that text reached the terminal is printed as a cross-check of the in-app probe.
- One untimed warm-up run of each first; it fills a private bytecode cache (PYTHONPYCACHEPREFIX,
  whatever PYTHONDONTWRITEBYTECODE says), so no timed run compiles source, as on an install.

`lobby` and `lobby-cold` run the source tree this test imports ``lobby`` from (its parent first
on PYTHONPATH), not whatever copy the interpreter has installed.

LOBBY_BENCH_STARTUP_RUNS sets the number of timed runs of each (default 9).
LOBBY_BENCH_STARTUP_ALSO=name=/path/to/checkout[,name=...] also times `lobby` run from other
source trees (their ``lobby`` package first on PYTHONPATH), interleaved with the others: how a
change is compared with what it changes. Their ratios are printed too.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import statistics
import struct
import subprocess
import sys
import termios
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

import lobby
from lobby.cli.app import demo_identity
from lobby.tui.probe import FIRST_PAINT_ENV
from lobby.tui.store import LAST_KNOWN_FILE

RUNS = int(os.environ.get("LOBBY_BENCH_STARTUP_RUNS", "9"))
ALSO = dict(
    item.split("=", 1) for item in os.environ.get("LOBBY_BENCH_STARTUP_ALSO", "").split(",") if "=" in item
)
SIZE = (120, 40)  # columns, rows
HANG = 60.0  # seconds: a guard against a run that never paints, not a timing
#: The target of each mark: first paint with data, live data (see the module's docstring).
TARGETS = {"rows": 1.3, "loaded": 2.0}
#: Every mark, in order, and what it is.
MARKS = {
    "rows": "first paint with data",
    "loaded": "live data: every backend's listing on screen",
    "connected": "every backend connected and listed by itself (no target)",
}
#: How the home marks an offer shown from the last-known offers (lobby.tui.screens.home).
REFRESHING_MARK = "↻".encode()

BARE_APP = textwrap.dedent(
    '''
    """A bare Textual app: a DataTable with a few rows, and the same first-paint probe."""
    import os
    import time

    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    ROWS = [
        ("Ticket", "Ranked duel", "p1", "0/2", "0:42"),
        ("Match", "Friday scrim", "Night Owls", "-", "5:00"),
        ("Challenge", "Grudge match", "Paper Tigers", "-", "12:05"),
    ]


    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("Kind", "Offer", "For", "Accepted", "Left")
            table.add_rows(ROWS)
            self.call_after_refresh(self.painted)

        def painted(self) -> None:
            now, cpu = time.time(), time.process_time()
            with open(os.environ["LOBBY_FIRST_PAINT_FILE"], "a") as out:
                out.write(f"rows {now!r} {cpu!r}\\nloaded {now!r} {cpu!r}\\nconnected {now!r} {cpu!r}\\n")
            self.exit()


    if __name__ == "__main__":
        Bare().run()
    '''
)

BARE_MARKER = rb"Grudge match"
#: A section's border title counts its rows only when it has some: "Open matches (4)".
LOBBY_MARKER = rb"(Awaiting you|Open matches|My requests) \(\d+\)"


@dataclass
class Run:
    #: Seconds from spawn to each probe line: "rows" (first paint with data) and "loaded".
    marks: dict[str, float]
    #: The child's own CPU seconds (time.process_time()) at each mark.
    cpu: dict[str, float]
    #: (seconds from spawn, bytes so far) for every read from the terminal.
    reads: list[tuple[float, int]]
    output: bytes

    def seen(self, pattern: bytes) -> float | None:
        """Seconds from spawn until ``pattern`` had reached the terminal."""
        found = re.search(pattern, self.output)
        if found is None:
            return None
        return next(t for t, size in self.reads if size >= found.end())


def spawn_on_pty(argv: list[str], env: dict[str, str], probe: Path, cwd: Path) -> Run:
    """Run ``argv`` on a fresh pseudo-terminal until it exits: the probe's times minus the time
    just before the spawn, and everything it wrote to the terminal (with when)."""
    probe.unlink(missing_ok=True)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    chunks: list[bytes] = []
    reads: list[tuple[float, int]] = []
    size = 0

    def drain() -> None:  # the child blocks on a full terminal buffer if nobody reads it
        nonlocal size
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child side closed
                return
            if not data:
                return
            size += len(data)
            chunks.append(data)
            reads.append((time.time() - start, size))

    reader = threading.Thread(target=drain, daemon=True)
    start = time.time()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True, close_fds=True
    )
    os.close(slave)
    reader.start()
    try:
        proc.wait(HANG)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        reader.join(5)
        os.close(master)
        tail = b"".join(chunks)[-3000:]
        raise AssertionError(
            f"{argv[1:]} did not paint its data within {HANG:g} s; its terminal ended with {tail!r}"
        ) from None
    reader.join(5)
    os.close(master)
    output = b"".join(chunks)
    assert probe.exists(), f"{argv[1:]} exited ({proc.returncode}) without painting data: {output[-3000:]!r}"
    marks, cpu = {}, {}
    for line in probe.read_text().splitlines():
        what, stamp, seconds = line.split()
        marks[what] = float(stamp) - start
        cpu[what] = float(seconds)
    assert "loaded" in marks, f"{argv[1:]} exited without its 'loaded' mark: {marks}"
    return Run(marks, cpu, reads, output)


def child_env(home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LOBBY_", "AWS_", "TEXTUAL", "TEAMBATTLES_", "PYTHON"))
        and key not in ("NO_COLOR", "COLUMNS", "LINES")
    }
    env.update(
        {
            # Bytecode is cached as on any installed copy (here in a private folder, written by
            # the warm-up runs): a figure must not include compiling lobby from source.
            "PYTHONPYCACHEPREFIX": str(home / "pycache"),
            "HOME": str(home),
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "LOBBY_CONFIG_DIR": str(home / "config"),
            "LOBBY_DATA_DIR": str(home / "data"),
            "LOBBY_STATE_DIR": str(home / "state"),
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "AWS_ACCESS_KEY_ID": "AKIDLOBBYBENCHEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "lobby-bench-secret-not-real",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


@pytest.fixture
def bench_home(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    with emulator_home(tmp_path) as found:
        yield found


@contextmanager
def emulator_home(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A private home with a `lobby` profile on the emulator (the demo captain's players and
    user, a demo key in TEAMBATTLES_API_KEY), and `lobby emulator --bots` serving it."""
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    players, key, user = demo_identity()
    player_list = ", ".join(f'"{p}"' for p in players)
    (home / "config" / "config.toml").write_text(
        textwrap.dedent(
            f"""
            profile = "bench"

            [profiles.bench]
            kind = "emulator"

            [profiles.bench.gamelift]
            players = [{player_list}]

            [profiles.bench.teambattles]
            user = "{user}"
            """
        )
    )
    env = child_env(home)
    env["TEAMBATTLES_API_KEY"] = key
    log = tmp_path / "emulator.log"
    with log.open("w") as errors:
        emulator = subprocess.Popen(
            [sys.executable, "-m", "lobby", "emulator", "--port", "0", "--db", str(tmp_path / "bench.db"), "--bots"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
        )
    try:
        assert emulator.stdout is not None
        line = emulator.stdout.readline().strip()
        assert line.startswith("http"), f"the emulator did not announce a URL: {line!r} {log.read_text()[-2000:]}"
        deadline = time.monotonic() + HANG
        while not (home / "state" / "emulator.json").exists():  # announced for other commands
            assert time.monotonic() < deadline, "the emulator never wrote its announcement"
            time.sleep(0.05)
        yield home, env
    finally:
        emulator.terminate()
        try:
            emulator.wait(10)
        except subprocess.TimeoutExpired:
            emulator.kill()
            emulator.wait()


def test_time_to_first_painted_home_with_data(bench_home: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    home, env = bench_home
    bare_script = tmp_path / "bare_app.py"
    bare_script.write_text(BARE_APP)
    probe = tmp_path / "first-paint"
    env = {**env, FIRST_PAINT_ENV: str(probe)}
    cwd = tmp_path
    commands = {
        "bare": [sys.executable, str(bare_script)],
        "lobby": [sys.executable, "-m", "lobby"],
        "lobby-cold": [sys.executable, "-m", "lobby"],
        **{name: [sys.executable, "-m", "lobby"] for name in ALSO},
    }
    last_known = home / "state" / LAST_KNOWN_FILE
    # `lobby` is the source tree this test imports it from (child_env drops PYTHONPATH, which
    # would leave whichever copy the interpreter has installed).
    envs = {name: {**env, "PYTHONPATH": str(Path(lobby.__file__).resolve().parents[1])} for name in commands}
    envs["bare"] = env
    for name, tree in ALSO.items():
        envs[name] = {**env, "PYTHONPATH": str(Path(tree).resolve())}
    markers = {name: LOBBY_MARKER for name in commands}
    markers["bare"] = BARE_MARKER
    names = list(commands)

    def run(name: str, timed: bool = True) -> Run:
        if name == "lobby-cold":
            last_known.unlink(missing_ok=True)
        elif name == "lobby" and timed:
            assert last_known.exists(), "the previous run kept no last-known offers"
        result = spawn_on_pty(commands[name], envs[name], probe, cwd)
        assert result.seen(markers[name]) is not None, f"{name}: the data is not on the terminal"
        if name == "lobby" and timed:
            assert REFRESHING_MARK in result.output, "lobby: no last-known offer was shown marked as refreshing"
        return result

    load_before = os.getloadavg()
    for name in names:  # warm-up, not counted (it also keeps the first last-known offers)
        run(name, timed=False)
    runs: dict[str, list[Run]] = {name: [] for name in names}
    for i in range(RUNS):
        for name in names if i % 2 == 0 else reversed(names):
            runs[name].append(run(name))

    def ms(values: list[float]) -> str:
        return ", ".join(f"{v * 1000:.0f}" for v in values)

    figures: dict[tuple[str, str], float] = {}
    print()
    print(f"Start-up to the first painted home screen with data: {RUNS} alternating runs each, {SIZE[0]}x{SIZE[1]} pty")
    print(f"  load average before the runs: {load_before}, after: {os.getloadavg()}")
    for what, words in MARKS.items():
        print(f"  {what}: {words}")
        marked = [name for name in names if all(what in r.marks for r in runs[name])]
        for name in marked:
            values = [r.marks[what] for r in runs[name]]
            figures[name, what] = statistics.median(values)
            print(f"    {name:<8} median {figures[name, what] * 1000:6.0f} ms   runs (ms): {ms(values)}")
        for name in marked[1:]:
            ratio = figures[name, what] / figures["bare", what]
            target = TARGETS.get(what)
            verdict = "" if target is None else f"  ({'meets' if ratio <= target else 'misses'} the {target}x target)"
            print(f"    ratio  {name} / bare = {ratio:.2f}x{verdict}")
    print("  CPU seconds the app had used by each mark (steadier than wall time on a busy machine):")
    for what in MARKS:
        for name in names:
            if not all(what in r.cpu for r in runs[name]):
                continue
            values = [r.cpu[what] for r in runs[name]]
            ratio = statistics.median(values) / statistics.median([r.cpu[what] for r in runs["bare"]])
            print(f"    {what:<6} {name:<8} median {statistics.median(values) * 1000:6.0f} ms  ({ratio:.2f}x bare)")
    print("  cross-check, seen on the terminal (the data's text arriving on the pty):")
    for name in names:
        seen = [r.seen(markers[name]) or 0.0 for r in runs[name]]
        print(f"    {name:<8} median {statistics.median(seen) * 1000:6.0f} ms   runs (ms): {ms(seen)}")
    print("  first frame on the terminal:")
    for name in names:
        first = [r.reads[0][0] for r in runs[name] if r.reads]
        print(f"    {name:<8} median {statistics.median(first) * 1000:6.0f} ms")
    assert all(len(runs[name]) == RUNS for name in names)

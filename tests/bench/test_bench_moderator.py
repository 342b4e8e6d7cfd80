"""Figures for issue 5's scale section (run with `make bench-moderator`; prints, asserts no timings).

The load: 10,000 live FlexMatch tickets, then 1,000 events per second for 60 seconds, replayed
from a synthetic lobby (``SyntheticLobby``: searches, proposals, answers, rounds ending, matches
placed and completed, new tickets replacing finished ones). Events arrive as JSON text, as the
event stream delivers them, each at its due time.

Two consoles take the same load, each in its own process (so CPU time and memory are theirs),
one after the other in the same run, headless at 120x40 with every update encoded to terminal
output as a real terminal would receive it:

- the moderator's screen (``ModeratorScreen``): a line-API table over a sorted model, batched
  per frame;
- a plain ``DataTable``: every event applied, then one ``update_cell`` per changed row (or
  ``add_row`` for a new one), straight away.

Measured in each: event-to-screen latency (from an event's due time to the first repaint of the
table after it was applied), key-to-repaint latency (five key presses a second, from the key
posted to the next repaint of the table), CPU (process time over wall time during the replay)
and memory (peak resident set). Targets from the issue: every event on screen within 250 ms,
key to repaint p99 <= 100 ms, at most one core, at most 300 MB.

``LOBBY_BENCH_SECONDS`` shortens the replay (default 60).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

T0 = 1_767_268_800.0
LIVE = 10_000
RATE = 1_000
SECONDS = int(os.environ.get("LOBBY_BENCH_SECONDS", "60"))
KEYS_PER_SECOND = 5
SIZE = (120, 40)


# --- measuring (inside each child process) -----------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class ReplayClock:
    """The lobby's time as the replay tells it: T0 when the replay starts, then real time."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def timestamp(self) -> float:
        return T0 + (time.perf_counter() - self.start)

    def now(self):
        from datetime import UTC, datetime

        return datetime.fromtimestamp(self.timestamp(), UTC)


class Meter:
    """Latencies from "due" to "on screen"."""

    def __init__(self) -> None:
        self.due: list[float] = []  # per live event, in order
        self.applied = 0  # events applied so far
        self.synced = 0  # events the table had taken in at its last update
        self.painted = 0  # events known to be on screen
        self.latency: list[float] = []
        self.keys: list[float] = []  # posted, waiting for a paint
        self.key_latency: list[float] = []
        self.paints = 0

    def painted_now(self) -> None:
        now = time.perf_counter()
        self.paints += 1
        for i in range(self.painted, self.synced):
            self.latency.append(now - self.due[i])
        self.painted = max(self.painted, self.synced)
        if self.keys:
            self.key_latency += [now - t for t in self.keys]
            self.keys.clear()


def hook_paints(widget: Any, meter: Meter, paint_ms: list[float] | None = None) -> None:
    """Count each table paint as the moment what was applied is on screen; with ``paint_ms``,
    time each paint too."""
    original = widget.render_lines

    def render_lines(crop):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        lines = original(crop)
        if paint_ms is not None:
            paint_ms.append((time.perf_counter() - began) * 1000)
        meter.painted_now()
        return lines

    widget.render_lines = render_lines


def hook_sync(table: Any, meter: Meter) -> None:
    """The events applied when the table last caught up with the model are the ones its next
    paint shows."""
    original = table.sync

    def sync() -> None:
        meter.synced = meter.applied
        original()

    table.sync = sync


#: Keys pressed in the moderator (moving, paging, sorting by another column and back) and in
#: the plain table (moving and paging).
MODERATOR_KEYS = [("down", None), ("down", None), ("pagedown", None), ("up", None), ("greater_than_sign", ">"), ("r", "r"), ("less_than_sign", "<")]
PLAIN_KEYS = [("down", None), ("down", None), ("pagedown", None), ("up", None)]


def plain_app(board: Any, columns: tuple[str, ...], cells: Any) -> Any:
    """The baseline: a plain DataTable of ``columns``, one row per row of ``board`` (``cells``
    gives a row's texts); :func:`show_plainly` keeps it up to date."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Plain(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            for name in columns:
                table.add_column(name, key=name)
            table.add_rows([cells(row) for row in board.rows.values()])
            self._keys = {row.key: k for row, k in zip(board.rows.values(), table.rows, strict=True)}
            table.focus()

    return Plain()


def show_plainly(app: Any, table: Any, board: Any, event: Any, cells: Any) -> None:
    """Apply ``event`` and show it straight away: one ``update_cell`` per changed row, or
    ``add_row`` for a new one."""
    if event is not None and board.apply(event):
        for key in board.drain():
            row = board.rows.get(key)
            if row is None:
                continue
            row_key = app._keys.get(key)
            if row_key is None:
                app._keys[key] = table.add_row(*cells(row))
            else:
                table.update_cell(row_key, "status", row.status)


def encode_output(app: Any) -> io.StringIO:
    """Headless apps skip writing to the terminal; encode every update as a terminal would
    receive it, so that cost is counted."""
    from textual._compositor import CompositorUpdate

    sink = io.StringIO()
    original = app._display

    def display(screen, renderable):  # type: ignore[no-untyped-def]
        if isinstance(renderable, CompositorUpdate):
            sink.write(renderable.render_segments(app.console))
            if sink.tell() > 1 << 24:
                sink.seek(0)
                sink.truncate()
        return original(screen, renderable)

    app._display = display
    return sink


def make_load() -> tuple[list[str], list[list[str]]]:
    from synthetic import SyntheticLobby

    lobby = SyntheticLobby(live=LIVE, rate=RATE, start=T0)
    initial = [json.dumps(p) for p in lobby.initial()]
    seconds = [[json.dumps(p) for p in batch] for batch in lobby.seconds(SECONDS)]
    return initial, seconds


async def paced(seconds: list[list[str]], meter: Meter, start: float):
    """Yield (index, text) of each live event at its due time."""
    flat = [text for batch in seconds for text in batch]
    step = 1.0 / RATE
    meter.due = [start + i * step for i in range(len(flat))]
    i = 0
    while i < len(flat):
        now = time.perf_counter()
        if meter.due[i] > now:
            await asyncio.sleep(min(0.01, meter.due[i] - now))
            continue
        while i < len(flat) and meter.due[i] <= now:
            yield i, flat[i]
            i += 1


#: The most events a feed hands over at one wake-up, as one SQS receive does.
RECEIVE = 10


async def arrivals(due: Callable[[int], float], count: int) -> AsyncIterator[range]:
    """The positions of what a feed hands over at each wake-up: every item already due (item
    ``i`` is due at ``due(i)``), at most :data:`RECEIVE` at a time, as a real queue hands over
    what has arrived; in between, it sleeps until the next item is due."""
    i = 0
    while i < count:
        now = time.perf_counter()
        wait = due(i) - now
        if wait > 0:
            await asyncio.sleep(wait)
            continue
        end = i + 1
        while end < count and end - i < RECEIVE and due(end) <= now:
            end += 1
        yield range(i, end)
        i = end


async def press_keys(app: Any, meter: Meter, keys: list[tuple[str, str | None]], stop: asyncio.Event) -> None:
    from textual import events

    n = 0
    while not stop.is_set():
        await asyncio.sleep(1 / KEYS_PER_SECOND)
        key, character = keys[n % len(keys)]
        n += 1
        meter.keys.append(time.perf_counter())
        app.post_message(events.Key(key, character))


def figures(meter: Meter, cpu: float, wall: float, peak: float, base: float, total: int) -> dict[str, Any]:
    lat = sorted(meter.latency)
    keys = sorted(meter.key_latency)

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")

    return {
        "events": total,
        "on_screen": len(lat),
        "event_ms_p50": pct(lat, 0.50),
        "event_ms_p99": pct(lat, 0.99),
        "event_ms_max": lat[-1] * 1000 if lat else float("nan"),
        "over_250ms": sum(1 for x in lat if x > 0.25),
        "key_ms_p50": pct(keys, 0.50),
        "key_ms_p99": pct(keys, 0.99),
        "key_ms_max": keys[-1] * 1000 if keys else float("nan"),
        "keys": len(keys),
        "cpu_cores": cpu / wall,
        "rss_peak_mb": peak,
        "rss_before_mb": base,
        "paints": meter.paints,
    }


async def run_moderator() -> dict[str, Any]:
    from lobby.moderation import Board, unwrap
    from lobby.core.backend import FeedState
    from lobby.moderation.rejects import RejectLog
    from lobby.tui.moderator.app import ModeratorApp

    initial, seconds = make_load()
    meter = Meter()
    board = Board()
    for text in initial:  # the backlog a moderator connects to
        board.apply(unwrap(text))

    class Source:
        description = "bench replay"
        state = FeedState.LIVE
        last_event_id = None
        clock = None

        def __init__(self) -> None:
            self.rejects = RejectLog()
            self.started = asyncio.Event()
            self.finished = asyncio.Event()

        async def batches(self):
            await self.started.wait()
            flat = [text for batch in seconds for text in batch]
            start, step = time.perf_counter(), 1.0 / RATE
            meter.due = [start + i * step for i in range(len(flat))]
            async for arrived in arrivals(meter.due.__getitem__, len(flat)):
                batch = [unwrap(json.loads(flat[i]), fallback_id=f"bench:{i}") for i in arrived]
                if events := [event for event in batch if event is not None]:
                    yield events
                meter.applied = arrived.stop  # asked again: the batch was applied
            meter.applied = len(meter.due)
            self.finished.set()
            await asyncio.Event().wait()

        async def aclose(self) -> None:
            pass

    source = Source()
    clock = ReplayClock()
    app = ModeratorApp(source, clock=clock, board=board, still=True)
    encode_output(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        table = screen.table
        hook_sync(table, meter)
        hook_paints(table, meter)
        stop = asyncio.Event()
        base = rss_mb()
        peak = base
        cpu0, wall0 = time.process_time(), time.perf_counter()
        clock.start = wall0
        source.started.set()
        presser = asyncio.create_task(press_keys(app, meter, MODERATOR_KEYS, stop))
        while not source.finished.is_set():
            await asyncio.sleep(0.5)
            peak = max(peak, rss_mb())
        await asyncio.sleep(0.5)  # the last frame
        stop.set()
        await presser
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        result = figures(meter, cpu, wall, max(peak, rss_mb()), base, len(meter.due))
        result["rows"] = len(screen.board)
        return result


async def run_datatable() -> dict[str, Any]:
    from textual.widgets import DataTable

    from lobby.moderation import Board, unwrap

    initial, seconds = make_load()
    meter = Meter()
    board = Board()
    for text in initial:
        board.apply(unwrap(text))
    board.drain()
    columns = ("id", "config", "status", "accepted", "players")

    def cells(row) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
        accepted = f"{row.accepted}/{row.total}" if row.total else "-"
        return (row.id, row.group, row.status, accepted, ", ".join(row.players))

    app = plain_app(board, columns, cells)
    encode_output(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(DataTable)
        hook_paints(table, meter)
        stop = asyncio.Event()
        base = rss_mb()
        peak = base
        cpu0, wall0 = time.process_time(), time.perf_counter()
        presser = asyncio.create_task(press_keys(app, meter, PLAIN_KEYS, stop))
        last_rss = wall0
        async for i, text in paced(seconds, meter, time.perf_counter()):
            show_plainly(app, table, board, unwrap(json.loads(text), fallback_id=f"bench:{i}"), cells)
            meter.applied = meter.synced = i + 1
            if i % 200 == 0:
                await asyncio.sleep(0)  # let it paint, as an app reading a socket would
                if time.perf_counter() - last_rss > 0.5:
                    peak, last_rss = max(peak, rss_mb()), time.perf_counter()
        await asyncio.sleep(0.5)
        stop.set()
        await presser
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        result = figures(meter, cpu, wall, max(peak, rss_mb()), base, len(meter.due))
        result["rows"] = table.row_count
        return result


# --- the test (the parent process) ----------------------------------------------------------------


def child(kind: str) -> dict[str, Any]:
    return run_child(__file__, [kind], timeout=SECONDS * 10 + 300)


def run_child(script: str, args: list[str], *, timeout: float) -> dict[str, Any]:
    """Run ``script`` in its own process (so CPU time and memory are its own); its figures are
    the last line it prints, as JSON."""
    done = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_moderator_table_against_a_plain_datatable():
    results = {kind: child(kind) for kind in ("moderator", "datatable")}
    print(f"\nissue 5 scale: {LIVE:,} live tickets, {RATE:,} events/s for {SECONDS} s, {SIZE[0]}x{SIZE[1]}, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    rows = [
        ("events replayed / seen on screen", "{events:,} / {on_screen:,}"),
        ("rows at the end", "{rows:,}"),
        ("event to screen p50 / p99 / max (ms)", "{event_ms_p50:.0f} / {event_ms_p99:.0f} / {event_ms_max:.0f}"),
        ("events later than 250 ms", "{over_250ms:,}"),
        ("key to repaint p50 / p99 / max (ms)", "{key_ms_p50:.0f} / {key_ms_p99:.0f} / {key_ms_max:.0f}   ({keys} keys)"),
        ("CPU (cores)", "{cpu_cores:.2f}"),
        ("memory peak RSS (MB)", "{rss_peak_mb:.0f}   (before the replay {rss_before_mb:.0f})"),
        ("table repaints", "{paints:,}"),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"    {'':{width}}  {'moderator (line API)':>30}  {'plain DataTable':>30}")
    for label, template in rows:
        cells = [template.format(**results[k]) for k in ("moderator", "datatable")]
        print(f"    {label:{width}}  {cells[0]:>30}  {cells[1]:>30}")
    print("    targets: every event within 250 ms; key p99 <= 100 ms; <= 1 core; <= 300 MB")
    for kind, result in results.items():
        assert result["events"] == RATE * SECONDS, kind
        assert result["on_screen"] > 0 and result["keys"] > 0, kind
    print(json.dumps(results))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/, for synthetic
    runner = {"moderator": run_moderator, "datatable": run_datatable}[sys.argv[1]]
    print(json.dumps(asyncio.run(runner())))

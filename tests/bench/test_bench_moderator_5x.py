"""Figures for issue 14's load section: five times the moderator bench, across five feeds (run with
`make bench-moderator-5x`; prints, asserts no timings).

The load: 50,000 live FlexMatch tickets, then 5,000 events per second for 60 seconds, from five
feeds of 10,000 tickets and 1,000 events per second each, one per AWS region. Each feed is a
synthetic lobby (``SyntheticLobby``, its own seed, ids and region) recorded to a file of JSON
lines before the run; in the run each line is due at its own time, and a feed reads, at each
wake-up, every line already due (at most ten, as one SQS receive hands over what has arrived),
each one as a real feed does (:func:`~lobby.moderation.rejects.read_event`).

Two consoles take the same load, each in its own process (so CPU time and memory are theirs),
one after the other in the same run, headless at 120x40 with every update encoded to terminal
output as a real terminal would receive it:

- the moderator's screen, its five feeds merged by the composition root's ``merged_feed`` (the
  :class:`~lobby.moderation.merge.MergedSource` that `lobby moderate --sqs … --sqs …` uses);
- the baseline: a plain ``DataTable``, every event applied, then one ``update_cell`` per changed
  row (or ``add_row`` for a new one), straight away, the five files read in turn.

Measured in each, as in ``test_bench_moderator.py``: event to screen (from an event's due time to
the first repaint of the table after it was applied), key to repaint (five keys a second), the
time one table paint takes, CPU (process time over wall time during the replay), memory (peak
resident set) and events dropped (replayed but never applied). Each figure of the moderator is
also given as a ratio to the baseline's. Targets from the issue: every event on screen within
250 ms at p99, key to repaint p99 <= 100 ms, at most one core, at most 500 MB.

``LOBBY_BENCH_SECONDS`` shortens the replay (default 60).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from test_bench_moderator import (
    MODERATOR_KEYS,
    PLAIN_KEYS,
    T0,
    Meter,
    ReplayClock,
    arrivals,
    encode_output,
    figures,
    hook_paints,
    hook_sync,
    plain_app,
    press_keys,
    rss_mb,
    run_child,
    show_plainly,
)

FEEDS = 5
LIVE_PER_FEED = 10_000
RATE_PER_FEED = 1_000
LIVE = FEEDS * LIVE_PER_FEED
RATE = FEEDS * RATE_PER_FEED
SECONDS = int(os.environ.get("LOBBY_BENCH_SECONDS", "60"))
SIZE = (120, 40)
REGIONS = ("us-east-1", "eu-west-1", "eu-central-1", "ap-northeast-1", "sa-east-1")


# --- the load (the parent process) ---------------------------------------------------------------


def record(folder: Path) -> None:
    """Five feeds' events to ``folder``: ``initial-K.jsonl`` (the backlog) and ``live-K.jsonl``."""
    from synthetic import REGION, SyntheticLobby

    for k, region in enumerate(REGIONS):
        lobby = SyntheticLobby(live=LIVE_PER_FEED, rate=RATE_PER_FEED, start=T0, seed=7 + k)

        # The feed's own event, ticket, match and player ids, and its region.
        renames = [('"syn-', f'"r{k}syn-'), ('"tk-', f'"r{k}tk-'), ('"mt-', f'"r{k}mt-'), ('"playerId": "p', f'"playerId": "r{k}p'), (REGION, region)]

        def own(event: dict[str, Any], renames: list[tuple[str, str]] = renames) -> str:
            text = json.dumps(event)
            for old, new in renames:
                text = text.replace(old, new)
            return text

        with open(folder / f"initial-{k}.jsonl", "w") as f:
            f.writelines(own(e) + "\n" for e in lobby.initial())
        with open(folder / f"live-{k}.jsonl", "w") as f:
            for batch in lobby.seconds(SECONDS):
                f.writelines(own(e) + "\n" for e in batch)


# --- measuring (inside each child process) -----------------------------------------------------


def paint_figures(result: dict[str, Any], paint_ms: list[float]) -> None:
    ordered = sorted(paint_ms)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    result.update(paint_ms_p50=pct(0.5), paint_ms_p99=pct(0.99), paint_ms_max=ordered[-1] if ordered else float("nan"))


def backlog(folder: Path):  # type: ignore[no-untyped-def]
    """A board holding every feed's initial events: the lobby a moderator connects to."""
    from lobby.moderation import Board, unwrap

    board = Board()
    for k in range(FEEDS):
        with open(folder / f"initial-{k}.jsonl") as f:
            for line in f:
                event = unwrap(line)
                assert event is not None
                board.apply(event)
    return board


class FileFeed:
    """One recorded feed: each line due at its own time; at each wake-up the feed reads every
    line already due (at most ten, as one SQS receive), each as a real feed reads a message."""

    def __init__(self, path: Path, region: str, due: dict[str, float], started: asyncio.Event) -> None:
        from lobby.core.backend import FeedState
        from lobby.moderation.rejects import RejectLog

        self.path = path
        self.region = region
        self.description = f"recording {path.name} ({region})"
        self.state = FeedState.LIVE
        self.rejects = RejectLog()
        self.last_event_id: int | None = None
        self.clock = None
        self.start = 0.0
        self.read = 0
        self.finished = asyncio.Event()
        self._due = due
        self._started = started
        with open(path) as f:
            self.lines = sum(1 for _ in f)

    def due(self, line: int) -> float:
        return self.start + line / RATE_PER_FEED

    async def batches(self):  # type: ignore[no-untyped-def]
        from lobby.moderation.rejects import read_event

        await self._started.wait()
        with open(self.path) as f:
            async for arrived in arrivals(self.due, self.lines):
                batch = []
                for i in arrived:
                    line, name = f.readline(), f"{self.path.name}:{i + 1}"
                    event = read_event(line, message_id=name, rejects=self.rejects, region=self.region)
                    if event is not None:
                        self._due[event.uid] = self.due(i)
                        batch.append(event)
                self.read = arrived.stop
                if batch:
                    yield batch
        self.finished.set()
        await asyncio.Event().wait()  # a live feed stays open

    async def aclose(self) -> None:
        pass


class Metered:
    """The merged feed, noting each event's due time once the board applied it (its batch)."""

    def __init__(self, merged: Any, due: dict[str, float], meter: Meter) -> None:
        self.merged = merged
        self.description = merged.description
        self.rejects = merged.rejects
        self.last_event_id = None
        self.clock = None
        self._due = due
        self._meter = meter

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.merged.state

    async def batches(self):  # type: ignore[no-untyped-def]
        meter, pop = self._meter, self._due.pop
        async with contextlib.aclosing(self.merged.batches()) as stream:
            async for batch in stream:
                due = [pop(event.uid) for event in batch]
                yield batch
                meter.due += due  # asked for the next batch: this one was applied
                meter.applied = len(meter.due)

    async def aclose(self) -> None:
        await self.merged.aclose()


async def run_moderator(folder: Path) -> dict[str, Any]:
    from lobby.cli.profiles import merged_feed
    from lobby.tui.moderator.app import ModeratorApp

    board = backlog(folder)
    meter = Meter()
    due: dict[str, float] = {}
    started = asyncio.Event()
    feeds = [FileFeed(folder / f"live-{k}.jsonl", region, due, started) for k, region in enumerate(REGIONS)]
    source = Metered(merged_feed(feeds), due, meter)
    clock = ReplayClock()
    app = ModeratorApp(source, clock=clock, board=board, still=True)
    encode_output(app)
    paint_ms: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        table = screen.table
        hook_sync(table, meter)
        hook_paints(table, meter, paint_ms)
        stop = asyncio.Event()
        base = rss_mb()
        peak = base
        cpu0, wall0 = time.process_time(), time.perf_counter()
        clock.start = wall0
        for feed in feeds:
            feed.start = wall0
        started.set()
        presser = asyncio.create_task(press_keys(app, meter, MODERATOR_KEYS, stop))
        while not all(feed.finished.is_set() for feed in feeds):
            await asyncio.sleep(0.5)
            peak = max(peak, rss_mb())
        await asyncio.sleep(0.5)  # the last frame
        stop.set()
        await presser
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        replayed = sum(feed.read for feed in feeds)
        result = figures(meter, cpu, wall, max(peak, rss_mb()), base, replayed)
        result.update(wall_s=wall, cpu_per_second=cpu / SECONDS)
        paint_figures(result, paint_ms)
        result["dropped"] = replayed - len(meter.due) - source.rejects.count
        result["rows"] = len(screen.board)
        result["regions"] = len(screen.board.region_names)
        result["region_column"] = screen.table.show_region
        return result


async def run_datatable(folder: Path) -> dict[str, Any]:
    from textual.widgets import DataTable

    from lobby.moderation import unwrap

    board = backlog(folder)
    board.drain()
    meter = Meter()
    columns = ("id", "config", "region", "status", "accepted", "players")

    def cells(row) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
        accepted = f"{row.accepted}/{row.total}" if row.total else "-"
        return (row.id, row.group, row.region, row.status, accepted, ", ".join(row.players))

    app = plain_app(board, columns, cells)
    encode_output(app)
    paint_ms: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one(DataTable)
        hook_paints(table, meter, paint_ms)
        stop = asyncio.Event()
        base = rss_mb()
        peak = base
        files = [open(folder / f"live-{k}.jsonl") for k in range(FEEDS)]  # noqa: SIM115 - closed below
        cpu0, wall0 = time.process_time(), time.perf_counter()
        presser = asyncio.create_task(press_keys(app, meter, PLAIN_KEYS, stop))
        last_rss = wall0
        step = 1.0 / RATE_PER_FEED
        replayed = 0
        i = 0
        try:
            while files:
                due = wall0 + i * step
                while (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(min(0.01, wait))
                for f in list(files):
                    line = f.readline()
                    if not line:
                        files.remove(f)
                        f.close()
                        continue
                    replayed += 1
                    show_plainly(app, table, board, unwrap(line, fallback_id=f"bench:{replayed}"), cells)
                    meter.due.append(due)
                    meter.applied = meter.synced = len(meter.due)
                i += 1
                if i % 40 == 0:
                    await asyncio.sleep(0)  # let it paint, as an app reading sockets would
                    if time.perf_counter() - last_rss > 0.5:
                        peak, last_rss = max(peak, rss_mb()), time.perf_counter()
        finally:
            for f in files:
                f.close()
        await asyncio.sleep(0.5)
        stop.set()
        await presser
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        result = figures(meter, cpu, wall, max(peak, rss_mb()), base, replayed)
        result.update(wall_s=wall, cpu_per_second=cpu / SECONDS)
        paint_figures(result, paint_ms)
        result["dropped"] = replayed - len(meter.due)
        result["rows"] = table.row_count
        return result


# --- the test (the parent process) ----------------------------------------------------------------


def child(kind: str, folder: Path) -> dict[str, Any]:
    return run_child(__file__, [kind, str(folder)], timeout=SECONDS * 15 + 600)


ROWS = [
    ("events replayed / seen on screen", "{events:,} / {on_screen:,}", None),
    ("events dropped (replayed, never applied)", "{dropped:,}", "dropped"),
    ("rows at the end", "{rows:,}", None),
    ("event to screen p50 (ms)", "{event_ms_p50:.0f}", "event_ms_p50"),
    ("event to screen p99 (ms)", "{event_ms_p99:.0f}", "event_ms_p99"),
    ("event to screen max (ms)", "{event_ms_max:.0f}", "event_ms_max"),
    ("events later than 250 ms", "{over_250ms:,}", "over_250ms"),
    ("key to repaint p50 (ms)", "{key_ms_p50:.0f}", "key_ms_p50"),
    ("key to repaint p99 (ms)", "{key_ms_p99:.0f}", "key_ms_p99"),
    ("key to repaint max (ms)", "{key_ms_max:.0f}   ({keys} keys)", "key_ms_max"),
    ("table paint p50 / p99 (ms)", "{paint_ms_p50:.1f} / {paint_ms_p99:.1f}", "paint_ms_p99"),
    ("table repaints", "{paints:,}", "paints"),
    ("replay took (s)", "{wall_s:.0f}", "wall_s"),
    ("CPU (cores: CPU time over the replay's wall time)", "{cpu_cores:.2f}", "cpu_cores"),
    ("CPU seconds per second of load", "{cpu_per_second:.2f}", "cpu_per_second"),
    ("memory peak RSS (MB)", "{rss_peak_mb:.0f}   (before {rss_before_mb:.0f})", "rss_peak_mb"),
]


def ratio(ours: float, base: float) -> str:
    if base == 0:
        return "-" if ours == 0 else "inf"
    return f"{ours / base:.2f}x"


def test_moderator_at_five_times_the_load_across_five_feeds():
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="lobby-bench-5x-") as name:
        folder = Path(name)
        began = time.perf_counter()
        record(folder)
        recorded = time.perf_counter() - began
        results = {kind: child(kind, folder) for kind in ("moderator", "datatable")}
    after = os.getloadavg()
    print(
        f"\nissue 14 load: {LIVE:,} live tickets, {RATE:,} events/s for {SECONDS} s across {FEEDS} feeds "
        f"({', '.join(REGIONS)}), {SIZE[0]}x{SIZE[1]}, {os.cpu_count()} CPUs; load average "
        f"{load[0]:.2f} before, {after[0]:.2f} after (a shared machine); recorded in {recorded:.0f} s"
    )
    width = max(len(label) for label, _, _ in ROWS)
    print(f"    {'':{width}}  {'moderator (5 feeds merged)':>28}  {'plain DataTable':>24}  {'ratio':>7}")
    for label, template, key in ROWS:
        ours, base = (template.format(**results[k]) for k in ("moderator", "datatable"))
        versus = ratio(results["moderator"][key], results["datatable"][key]) if key else ""
        print(f"    {label:{width}}  {ours:>28}  {base:>24}  {versus:>7}")
    print("    targets: every event on screen within 250 ms at p99; key p99 <= 100 ms; <= 1 core; <= 500 MB")
    print(f"    moderator: {results['moderator']['regions']} regions on the board, region column shown: "
          f"{results['moderator']['region_column']}")  # fmt: skip
    for kind, result in results.items():
        assert result["events"] == RATE * SECONDS, kind
        assert result["on_screen"] > 0 and result["keys"] > 0, kind
    assert results["moderator"]["regions"] == FEEDS and results["moderator"]["region_column"]
    print(json.dumps(results))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/, for synthetic
    runner = {"moderator": run_moderator, "datatable": run_datatable}[sys.argv[1]]
    print(json.dumps(asyncio.run(runner(Path(sys.argv[2])))))

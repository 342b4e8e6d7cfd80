"""Exactly-once under faults, at scale: 1,000 scripted accepts (500 FlexMatch AcceptMatch, 500
TeamBattles requests to play) through lobby's own adapters, with the adapters' real retry
timing, against an emulator injecting faults into 30% of calls. Every action must be recorded
exactly once on the server: none lost, none doubled.

The same campaign first runs without faults on a fresh emulator, as the baseline of this run:
the extra requests and the wall time are reported against it.

Run with `make bench` (or `pytest tests/bench/test_bench_reliability.py -p no:xdist -s`).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "emulator"))

from reliability_helpers import Campaign, clear_faults, scenario_with_matches, set_faults  # noqa: E402

from lobby.emulator.runtime import EmulatorConfig  # noqa: E402
from lobby.emulator.server import EmulatorThread  # noqa: E402

FLEXMATCH_ACTIONS = 500
TEAMBATTLES_ACTIONS = 500
RATE = 0.3
SEED = 20261124


async def _campaign(tmp_path: Path, name: str, rate: float) -> tuple[Campaign, dict, dict, float]:
    folder = tmp_path / name
    folder.mkdir()
    config = EmulatorConfig(scenario=scenario_with_matches(folder, TEAMBATTLES_ACTIONS))
    with EmulatorThread(config) as emu:
        campaign = Campaign(emu.url, FLEXMATCH_ACTIONS, TEAMBATTLES_ACTIONS, concurrency=24, seed=SEED)
        await campaign.prepare_flexmatch()
        if rate:
            set_faults(emu.url, rate=rate, seed=SEED, delaySeconds=0.5, retryAfterSeconds=1)
        wall = await campaign.run()
        shown = clear_faults(emu.url)
        result = await campaign.verify(emu.runtime.store)
    return campaign, shown, result, wall


async def test_1000_accepts_at_30_percent_faults_each_recorded_exactly_once(tmp_path: Path):
    base, _, base_result, base_wall = await _campaign(tmp_path, "baseline", 0.0)
    assert base.errors == [] and base_result["lost"] == 0 and base_result["doubled"] == 0

    run, shown, result, wall = await _campaign(tmp_path, "faults", RATE)
    actions = FLEXMATCH_ACTIONS + TEAMBATTLES_ACTIONS
    requests = sum(run.requests.values())
    base_requests = sum(base.requests.values())
    injected = shown["injected"]
    print()
    print(f"reliability: {actions} accepts ({FLEXMATCH_ACTIONS} FlexMatch, {TEAMBATTLES_ACTIONS} "
          f"TeamBattles), faults at {RATE:.0%}, seed {shown['seedInUse']}")  # fmt: skip
    print(f"  calls seen by the fault layer: {shown['calls']}, faults injected: {shown['total']}")
    for kind, phases in injected.items():
        print(f"    {kind:<9} before {phases['before']:>4}  after {phases['after']:>4}")
    fm_retries = run.requests["flexmatch"] - FLEXMATCH_ACTIONS - run.resubmits["flexmatch"]
    tb_extra = run.requests["teambattles"] - base.requests["teambattles"]
    print(f"  requests sent: {requests} (baseline {base_requests}, x{requests / base_requests:.2f})")
    print(f"  FlexMatch retries by the adapter: {fm_retries}; TeamBattles requests beyond the "
          f"baseline (retries and re-submissions): {tb_extra}")  # fmt: skip
    print(f"  re-submitted by the script after the adapter gave up: {dict(run.resubmits)}")
    print(f"  lost: {result['lost']}, doubled: {result['doubled']}, errors: {len(run.errors)}")
    print(f"  wall: {wall:.2f} s with faults, {base_wall:.2f} s baseline "
          f"(x{wall / base_wall:.1f})")  # fmt: skip

    assert run.errors == []
    assert result["lost"] == 0
    assert result["doubled"] == 0
    assert all(sum(phases.values()) > 0 for phases in injected.values())
    assert sum(p["after"] for p in injected.values()) > 0

"""The full hostile-input campaign against the emulator (run with `make bench`; prints its
figures: cases per target, answers seen, findings).

- TeamBattles: schemathesis from the committed contract, positive and negative cases for every
  route the emulator serves, first with the demo Pro key, then with every other auth (other
  plans and kinds, expired, revoked, unknown, malformed, none), drawn per case.
- FlexMatch: model-built, boundary and invalid bodies for every operation, over AWS JSON 1.1
  and Smithy RPC v2 CBOR; then hostile SigV4 headers (Authorization, X-Amz-Date, Date, Host,
  token, payload hash) against an emulator checking signatures, with properly signed requests
  among them (10x LOBBY_FUZZ_FM_EXAMPLES cases).

Each target runs to its count (there is no stop at the first problem) and the run fails if
anything was found, after printing all of it. Cases are random (not derandomized as in
`make test`); the seed is printed, and LOBBY_FUZZ_SEED replays a run.

LOBBY_FUZZ_TB_EXAMPLES: cases per (route, mode) for each of the two TeamBattles passes
(default 120). LOBBY_FUZZ_FM_EXAMPLES: cases per (operation, protocol) (default 120).
Both emulators run in this process on loopback ports with in-memory SQLite.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "emulator"))

from flexmatch_helpers import config_for  # noqa: E402
from fuzz_flexmatch_helpers import run_flexmatch, run_sigv4  # noqa: E402
from fuzz_teambattles_helpers import AUTHS, fuzz_config, run_teambattles  # noqa: E402

from lobby.emulator.server import EmulatorThread  # noqa: E402

TB_EXAMPLES = int(os.environ.get("LOBBY_FUZZ_TB_EXAMPLES", "120"))
FM_EXAMPLES = int(os.environ.get("LOBBY_FUZZ_FM_EXAMPLES", "120"))
SEED = int(os.environ.get("LOBBY_FUZZ_SEED", str(random.randrange(2**32))))


def test_fuzz_campaign(tmp_path):
    print(f"\nfuzz campaign: seed {SEED} (LOBBY_FUZZ_SEED={SEED} replays it)")

    started = time.perf_counter()
    with EmulatorThread(fuzz_config(tmp_path / "tb")) as emu:
        tb = run_teambattles(emu.url, examples=TB_EXAMPLES, auths={"pro": AUTHS["pro"]},
                             derandomize=False, random_seed=SEED)
        others = {name: header for name, header in AUTHS.items() if name != "pro"}
        tb = run_teambattles(emu.url, examples=TB_EXAMPLES, auths=others, derandomize=False,
                             random_seed=SEED + 1, campaign=tb)
    tb_seconds = time.perf_counter() - started
    print("\n== TeamBattles /api/v1 (schemathesis, from the committed contract)")
    print(tb.report())

    started = time.perf_counter()
    with EmulatorThread(config_for(tmp_path)) as emu:
        fm = run_flexmatch(emu.url, examples=FM_EXAMPLES, derandomize=False, random_seed=SEED)
    with EmulatorThread(config_for(tmp_path, verify_sigv4=True)) as emu:
        fm = run_sigv4(emu.url, examples=FM_EXAMPLES * 10, derandomize=False, random_seed=SEED,
                       campaign=fm)
    fm_seconds = time.perf_counter() - started
    print("\n== FlexMatch (hypothesis, from the committed GameLift model; JSON 1.1, RPC v2 CBOR, SigV4)")
    print(fm.report())

    total = tb.total + fm.total
    found = len(tb.findings) + len(fm.findings)
    print(
        f"\nfuzz campaign: {tb.total} TeamBattles cases in {tb_seconds:.0f} s,"
        f" {fm.total} FlexMatch cases in {fm_seconds:.0f} s; {total} in all; {found} finding(s)"
    )
    if TB_EXAMPLES >= 120 and FM_EXAMPLES >= 120:  # the default counts make a full campaign
        assert total >= 2000
    assert found == 0, "findings above"

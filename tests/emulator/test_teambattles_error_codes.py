"""Every ``error`` the TeamBattles emulator can answer is a member of the published
``ApiErrorCode`` enum, with one status each.

The codes the emulator can emit are read from its source: every ``ErrorCode`` member the
emulator's modules, the shared rules and the fault injector name (that is the only way a code
reaches an answer: ApiError takes a code, and the rules' violations carry one)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lobby.emulator.teambattles.errors import STATUS
from lobby.teambattles.vocab import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "tests" / "contracts" / "teambattles-openapi.nodoc.json"
SOURCES = [
    *sorted((ROOT / "lobby" / "emulator" / "teambattles").glob("*.py")),
    ROOT / "lobby" / "teambattles" / "rules.py",
    ROOT / "lobby" / "emulator" / "faults.py",
]
#: ``E.NAME`` / ``ErrorCode.NAME``, and the named codes routes.py keeps for its choices.
_NAMED = re.compile(r"\b(?:E|ErrorCode)\.([A-Z][A-Z_]+)\b")


def published() -> set[str]:
    return set(json.loads(CONTRACT.read_text())["components"]["schemas"]["ApiErrorCode"]["enum"])


def emitted() -> set[str]:
    names: set[str] = set()
    for path in SOURCES:
        names |= set(_NAMED.findall(path.read_text("utf-8")))
    return {ErrorCode[name].value for name in names}


def test_every_code_the_emulator_can_answer_is_published():
    codes = emitted()
    assert len(codes) >= 30
    assert codes - published() == set()


def test_every_code_has_its_status():
    assert emitted() <= set(STATUS)
    assert set(STATUS) <= published()


def test_the_enum_is_the_whole_published_one():
    assert len(published()) == 133

"""A scenario: everything the emulator is seeded with, as one validated document.

The built-in demo scenario lives in ``scenarios/demo.json``; ``--scenario FILE`` loads another.
The JSON schema of this model is committed as docs/scenario.schema.json (a test keeps it current).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lobby.emulator.flexmatch.scenario import FlexMatchScenario
from lobby.emulator.teambattles.scenario import TeamBattlesScenario


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    seed: int = Field(default=1, description="Seeds every random choice the demo bots make.")
    flexmatch: FlexMatchScenario = Field(default_factory=FlexMatchScenario)
    teambattles: TeamBattlesScenario = Field(default_factory=TeamBattlesScenario)


class ScenarioError(ValueError):
    """A scenario file that cannot be read or does not match the model; the message says why."""


def load_scenario(path: Path | None = None) -> Scenario:
    """Load ``path``, or the built-in demo scenario when ``path`` is None."""
    if path is None:
        text = resources.files("lobby.emulator.scenarios").joinpath("demo.json").read_text("utf-8")
        where = "built-in demo scenario"
    else:
        where = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario {where}: {exc.strerror or exc}") from None
    try:
        return Scenario.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ScenarioError(
            f"scenario {where} is invalid at {loc}: {first['msg']}"
            + (f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else "")
        ) from None


def scenario_json_schema() -> str:
    return json.dumps(Scenario.model_json_schema(), indent=2, sort_keys=True) + "\n"

"""The scenario document: its committed JSON schema is current, and bad files fail plainly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lobby.cli import main
from lobby.emulator.scenario import ScenarioError, load_scenario, scenario_json_schema

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "scenario.schema.json"


def test_committed_schema_matches_the_model():
    assert SCHEMA.read_text() == scenario_json_schema(), (
        "docs/scenario.schema.json is stale: regenerate it with "
        "python -c 'from lobby.emulator.scenario import scenario_json_schema as s; "
        "open(\"docs/scenario.schema.json\",\"w\").write(s())'"
    )


def test_the_builtin_demo_validates_against_the_committed_schema():
    import jsonschema

    from lobby.emulator.scenarios import __file__ as scenarios_init

    demo = json.loads((Path(scenarios_init).parent / "demo.json").read_text())
    jsonschema.validate(demo, json.loads(SCHEMA.read_text()))
    assert load_scenario().name == demo["name"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", r"is invalid at \(top level\): Invalid JSON"),
        ('{"name": ""}', "is invalid at name"),
        ('{"name": "x", "surprise": 1}', "is invalid at surprise"),
    ],
)
def test_bad_scenarios_are_one_sentence(tmp_path, text, expected):
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=expected):
        load_scenario(path)


def test_missing_scenario_file_is_a_plain_cli_error(tmp_path, capsys):
    assert main(["emulator", "--scenario", str(tmp_path / "nope.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lobby: cannot read scenario") and err.count("\n") == 1

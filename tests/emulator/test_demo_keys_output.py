"""`lobby demo-keys` prints a scenario's text, which is anyone's: no escape sequence or control
character reaches the terminal, in the table or in JSON."""

from __future__ import annotations

import json
from importlib import resources

from lobby.cli import main

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m\rback\x00"


def _hostile_scenario(tmp_path):
    data = json.loads(resources.files("lobby.emulator.scenarios").joinpath("demo.json").read_text())
    tb = data["teambattles"]
    for key in tb["keys"]:
        key["label"] = "label " + HOSTILE
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data))
    return path


def test_demo_keys_prints_no_escape_or_control_character(tmp_path, capsys):
    path = _hostile_scenario(tmp_path)
    assert main(["demo-keys", "--scenario", str(path)]) == 0
    out = capsys.readouterr().out
    assert "label " in out and "red" in out and "back" in out
    assert not any(ch in out for ch in "\x1b\x07\x00\r")
    assert main(["demo-keys", "--scenario", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\x1b\x07\x00\r")
    assert json.loads(out)[0]["label"] == "label " + HOSTILE  # JSON keeps the text, escaped

"""Every `lobby` sub-command: its help, a mistake on the command line said in one line, a reader
that goes away (`| head -1`) ending it quietly, and `lobby paths`."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lobby import paths
from lobby.cli import build_parser, main
from lobby.config import config_file
from lobby.emulator.server import EmulatorThread

YOU = "tb_test_you_pro_personal_0001"


def every_command() -> list[list[str]]:
    """Each sub-command's words, nested ones (``ruleset check``) included."""

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> list[list[str]]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append([*words, name])
                    found.extend(walk(sub, [*words, name]))
        return found

    return walk(build_parser(), [])


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = every_command()
    assert {"accept-challenge", "refuse-challenge", "paths"} <= {c[0] for c in commands}
    for words in commands:
        with pytest.raises(SystemExit) as exit_:
            main([*words, "--help"])
        out, err = capsys.readouterr()
        assert exit_.value.code == 0 and err == "", words
        assert out.startswith(f"usage: lobby {' '.join(words)}"), words


def test_every_command_the_readme_lists_for_scripts_takes_json() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("### From the command line", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    listed = {line.split()[1] for line in block.splitlines() if line.startswith("lobby ")}
    assert {"tickets", "accept", "matches", "accept-match", "accept-challenge", "refuse-challenge"} <= listed
    choices = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name in listed:
        options = {option for action in choices[name]._actions for option in action.option_strings}
        assert "--json" in options, name


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["emulator", "--port", "99999"], "lobby emulator: argument --port: '99999' is not a port number from 0 to 65535"),
        (["emulator", "--port", "http"], "argument --port: 'http' is not a port number"),
        (["demo", "--port", "-1"], "lobby demo: argument --port: '-1' is not a port number"),
        (["emulator", "--fault-delay", "nan"], "argument --fault-delay: 'nan' is not a number of seconds from 0 to 60"),
        (["emulator", "--fault-delay", "61"], "argument --fault-delay: '61' is not a number of seconds"),
        (["emulator", "--fault-seed", "-1"], "argument --fault-seed: '-1' is not a whole number from 0"),
        (["emulator", "--host", " "], "argument --host: give an address"),
        (["accept-challenge", "tbm_x"], "the following arguments are required: --active"),
        (["refuse-challenge"], "the following arguments are required: MATCH"),
        (["paths", "--yaml"], "unrecognized arguments: --yaml"),
        (["web", "--port", "99999"], "lobby web: argument --port: '99999' is not a port number"),
        (["web", "--window", "nan"], "argument --window: 'nan' is not a number of seconds from 1 to 86400"),
        (["web", "--max-sessions", "-1"], "argument --max-sessions: '-1' is not a whole number from 1 to 64"),
        (["moderate", "--keep-finished", "inf"], "argument --keep-finished: 'inf' is not a number of seconds"),
        (["no-such-command"], "invalid choice: 'no-such-command'"),
    ],
)
def test_a_command_line_mistake_is_one_line_and_exit_2(capsys, argv, words) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err and "Traceback" not in err, err


def test_a_database_the_emulator_cannot_use_is_one_plain_line(tmp_path: Path, capsys) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a database, but someone's notes\n" * 200)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    cases = [
        (tmp_path, "is a folder"),
        (junk, "cannot use"),
        (blocked / "emulator.db", "cannot make the folder"),
    ]
    for db, words in cases:
        assert main(["emulator", "--db", str(db), "--port", "0"]) == 1
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("lobby: ") and words in err, err
    assert junk.read_text().startswith("not a database")  # left as it was


def test_a_secret_in_a_rule_or_a_reason_is_refused_and_not_echoed(capsys) -> None:
    for argv in (
        ["accept-match", "m", "--team", "t", "--active", "u", "--rule", f"key={YOU}"],
        ["refuse-challenge", "m", "--reason", f"use {YOU}"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "never goes on the command line" in err and YOU not in err


def test_paths_prints_the_config_data_and_state_places(capsys) -> None:
    assert main(["paths", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["configFile"] == {"path": str(config_file()), "exists": False, "setBy": "LOBBY_CONFIG_DIR"}
    assert doc["data"]["path"] == str(paths.data_dir()) and doc["data"]["setBy"] == "LOBBY_DATA_DIR"
    assert doc["state"]["path"] == str(paths.state_dir()) and doc["state"]["setBy"] == "LOBBY_STATE_DIR"
    assert doc["emulatorDatabase"]["path"] == str(paths.default_emulator_db())

    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text('profile = "emulator"\n')
    assert main(["paths"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["config", "file", str(config_file())]
    assert "not there yet" not in lines[0] and "from $LOBBY_CONFIG_DIR" in lines[0]
    assert any(line.split()[:2] == ["state", str(paths.state_dir())] for line in lines)


def test_a_setting_the_config_file_names_but_lobby_does_not_know_is_reported_in_one_line(capsys) -> None:
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text('profile = "emulator"\ntheme_name = "nord"\n[profiles.emulator]\nkind = "emulator"\nplayer = 1\n')
    assert main(["paths"]) == 0
    captured = capsys.readouterr()
    # A profile refuses a key it does not know: that is not "ignored", the settings error names it.
    assert captured.err.splitlines() == [f"lobby: {config_file()}: unknown setting ignored: theme_name."]
    assert captured.out.splitlines()[0].split()[:3] == ["config", "file", str(config_file())]
    config_file().write_text('profile = "emulator"\n')
    assert main(["paths"]) == 0
    assert capsys.readouterr().err == ""


def test_a_reader_that_goes_away_ends_every_command_quietly(
    emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    announcement = paths.emulator_announcement()
    announcement.parent.mkdir(parents=True, exist_ok=True)
    announcement.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    commands = [
        ["matches", "--json"],
        ["my-requests", "--json"],
        ["demo-keys"],
        ["paths"],
        ["tickets", "--all", "--player", "alice"],
    ]
    for argv in commands:
        read, write = os.pipe()
        os.close(read)  # like `| head -1` exiting before lobby writes
        with os.fdopen(write, "w") as gone, monkeypatch.context() as patch:
            patch.setattr(sys, "stdout", gone)
            assert main(argv) == 0, argv
        assert capsys.readouterr().err == "", argv

    # And the real thing, Python's exit included.
    proc = subprocess.Popen(
        [sys.executable, "-m", "lobby", "matches"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (0, b"")

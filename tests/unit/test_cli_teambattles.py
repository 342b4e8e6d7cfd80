"""`lobby matches`, `lobby accept-match` and `lobby my-requests` against a running emulator:
plain one-line errors, the acceptanceId on success, statuses, and a key that is never printed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lobby import paths
from lobby.cli import build_parser, main
from lobby.cli.teambattles import parse_bench, starts_in
from lobby.config import config_file
from lobby.emulator.server import EmulatorThread

YOU = "tb_test_you_pro_personal_0001"
FREE = "tb_test_you_free_personal_0003"
VIPER = "tb_test_viper_bot_0014"
CANARY = "tb_CANARY_never_print_me_0123456789"
ACCEPT = ["accept-match", "tbm_vipers_hp", "--team", "night-owls", "--active", "you,ada,bo,cy"]


@pytest.fixture
def running(emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorThread]:
    """The emulator, announced the way `lobby emulator` announces itself, and a profile that
    names the key's owner (challenges come from that person's teams' own matches)."""
    monkeypatch.setenv(
        "LOBBY_PROFILES", json.dumps({"emulator": {"kind": "emulator", "teambattles": {"user": "you"}}})
    )
    path = paths.emulator_announcement()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
    yield emulator
    path.unlink(missing_ok=True)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lobby: "), err
    return lines[0]


def test_matches_lists_open_matches_one_per_line(running, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    code, out, _ = run(capsys, "matches")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    hp = lines["tbm_vipers_hp"]
    for words in ("Skyline Strike", "hardpoint", "4v4", "in 2", "min", "Crimson Vipers"):
        assert words in hp
    assert "challenges Night Owls" in lines["tbm_vipers_challenge_owls"]
    assert "tbm_owls_open" not in lines and "tbm_foxes_draft" not in lines

    code, out, _ = run(capsys, "matches", "--json")
    items = {item["id"]: item for item in json.loads(out)}
    assert items["tbm_vipers_hp"]["kind"] == "teambattles-match"
    assert items["tbm_vipers_hp"]["facts"]["teamSize"] == "4"
    assert 0 < items["tbm_vipers_hp"]["startsInSeconds"] <= 30 * 60


def test_accept_match_prints_the_acceptance_id_and_my_requests_follows_it(running, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    code, out, err = run(
        capsys, *ACCEPT, "--bench", "dee:1", "--map-mode", "veto", "--maps", "harbor", "--message", "gg"
    )
    assert code == 0 and err == ""
    acceptance_id = out.strip()
    stored = running.runtime.store.query_one("SELECT id, bench_roster, map_preference_mode FROM tb_acceptances")
    assert stored is not None and stored[0] == acceptance_id
    assert json.loads(stored[1]) == [{"id": "u_dee", "priority": 1.0}] and stored[2] == "VETO"

    code, out, _ = run(capsys, "my-requests")
    assert code == 0
    [line] = out.splitlines()
    assert line.split()[:4] == [acceptance_id, "tbm_vipers_hp", "t_owls", "pending"]

    approved = httpx.post(
        f"{running.url}/api/v1/matches/tbm_vipers_hp/acceptances/{acceptance_id}/approve",
        json={},
        headers={"Authorization": f"Bearer {VIPER}"},
    )
    assert approved.status_code == 200
    code, out, _ = run(capsys, "my-requests", "--json")
    [item] = json.loads(out)
    assert (item["acceptanceId"], item["status"]) == (acceptance_id, "approved")
    assert item["payload"]["selectedMaps"] == ["harbor"]


def test_accept_match_takes_up_a_challenge(running, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    code, out, _ = run(
        capsys, "accept-match", "tbm_tide_challenge_tigers", "--team", "paper-tigers", "--active", "you,lu"
    )
    assert code == 0 and "accepted" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["accept-match", "tbm_vipers_hp", "--team", "night-owls", "--active", "you,ada"], "Not sent: The match is 4 a side"),
        ([*ACCEPT, "--maps", "harbor"], "--maps needs --map-mode"),
        ([*ACCEPT, "--bench", "dee:first"], "priority must be a number"),
        (["accept-match", "tbm_nope", "--team", "night-owls", "--active", "you"], "No match"),
        ([*ACCEPT[:-1], "you,ada,bo,rex", "--map-mode", "PREFERRED", "--maps", "orbital"], "rex is not an active member"),
    ],
    ids=["roster-size", "maps-without-mode", "bad-priority", "unknown-match", "two-problems"],
)
def test_refusals_are_one_plain_line(running, monkeypatch, capsys, argv, words) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert words in one_error_line(err)
    assert running.runtime.store.query_one("SELECT COUNT(*) FROM tb_acceptances")[0] == 0


def test_service_refusals_are_one_plain_line(running, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", FREE)
    code, _, err = run(capsys, *ACCEPT)
    assert code == 1 and "Pro or higher" in one_error_line(err)


def test_no_key_and_no_emulator_are_plain_errors(emulator, monkeypatch, capsys) -> None:
    code, _, err = run(capsys, "matches")
    assert code == 1 and "No lobby emulator is running" in one_error_line(err)
    path = paths.emulator_announcement()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
    code, _, err = run(capsys, "matches")
    assert code == 1 and "TEAMBATTLES_API_KEY" in one_error_line(err)
    monkeypatch.setenv("TEAMBATTLES_API_KEY", "sk_live_not_a_teambattles_key")
    code, _, err = run(capsys, "matches")
    assert code == 1 and "does not start with tb_" in one_error_line(err)
    assert "sk_live_not_a_teambattles_key" not in err


def test_the_key_is_never_printed(running, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", CANARY)
    outputs = []
    for argv in (["matches"], ["matches", "--json"], ACCEPT, ["my-requests"], ["my-requests", "--json"]):
        code, out, err = run(capsys, *argv)
        outputs.append(out + err)
        if argv[0] != "my-requests":
            assert code == 1 and "does not recognise this API key" in one_error_line(err)
    assert not [o for o in outputs if CANARY in o]


def test_the_key_is_not_an_option(capsys) -> None:
    for command in ("matches", "accept-match", "my-requests"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        help_text = capsys.readouterr().out
        assert "--key" not in help_text and "--api-key" not in help_text and "--token" not in help_text


def test_key_file_of_the_profile_must_be_owner_only(running, capsys, tmp_path: Path) -> None:
    key_file = tmp_path / "tb.key"
    key_file.write_text(YOU + "\n")
    key_file.chmod(0o644)
    config = config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[profiles.emulator]\nkind = "emulator"\n[profiles.emulator.teambattles]\nkey_file = "{key_file}"\n')
    code, _, err = run(capsys, "matches")
    assert code == 1 and f"chmod 600 {key_file}" in one_error_line(err)
    key_file.chmod(0o600)
    code, out, _ = run(capsys, "matches")
    assert code == 0 and "tbm_vipers_hp" in out


def test_my_requests_shows_stored_statuses_when_it_cannot_refresh(running, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    code, out, _ = run(capsys, *ACCEPT)
    acceptance_id = out.strip()
    monkeypatch.delenv("TEAMBATTLES_API_KEY")
    code, out, err = run(capsys, "my-requests")
    assert code == 0 and out.split()[0] == acceptance_id and "pending" in out
    assert "could not refresh" in one_error_line(err)
    code, out, err = run(capsys, "my-requests", "--offline")
    assert code == 0 and err == "" and acceptance_id in out


def test_bench_and_start_formatting() -> None:
    from datetime import UTC, datetime, timedelta

    assert parse_bench("dee:1, eli:2.5,,fox") == [("dee", 1.0), ("eli", 2.5), ("fox", 3.0)]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert starts_in(now + timedelta(minutes=12, seconds=30), now) == "in 12 min"
    assert starts_in(now + timedelta(hours=2, minutes=5), now) == "in 2 h 05 min"
    assert starts_in(now - timedelta(seconds=1), now) == "started"
    assert starts_in(None, now) == "no start time"


# --- challenges, disputed rules and --json on every answer ------------------------------------------


def match_row(emulator: EmulatorThread, match_id: str) -> tuple[str, str | None, str | None]:
    row = emulator.runtime.store.query_one(
        "SELECT status, accepted_team_id, cancel_reason FROM tb_matches WHERE id = ?", (match_id,)
    )
    assert row is not None
    return row[0], row[1], row[2]


def test_accept_match_sends_disputed_rules_read_as_the_console_reads_them(running, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    code, out, err = run(
        capsys, *ACCEPT, "--rule", "overtime=true", "--rule", "rounds=3", "--rule", "banned=[harbor, orbital]",
        "--rule", "note=best of three", "--json",
    )  # fmt: skip
    assert code == 0 and err == ""
    doc = json.loads(out)
    stored = running.runtime.store.query_one("SELECT id, team_id, disputed_rules FROM tb_acceptances")
    assert stored is not None
    assert (doc["matchId"], doc["answer"], doc["acceptanceId"], doc["teamId"]) == (
        "tbm_vipers_hp", "request", stored[0], stored[1]
    )
    assert stored[0] in doc["message"]
    assert json.loads(stored[2]) == {"overtime": True, "rounds": 3, "banned": ["harbor", "orbital"], "note": "best of three"}


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([*ACCEPT, "--rule", "overtime"], "write NAME=VALUE"),
        ([*ACCEPT, "--rule", "=3"], "Not sent: Every disputed rule needs a non-blank name."),
        (
            ["accept-match", "tbm_tide_challenge_tigers", "--team", "paper-tigers", "--active", "you,lu", "--rule", "a=1"],
            "is a direct challenge",
        ),
    ],
    ids=["no-value", "blank-name", "rules-on-a-challenge"],
)
def test_disputed_rules_the_service_would_refuse_are_not_sent(running, monkeypatch, capsys, argv, words) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == "" and words in one_error_line(err)
    assert running.runtime.store.query_one("SELECT COUNT(*) FROM tb_acceptances")[0] == 0
    assert match_row(running, "tbm_tide_challenge_tigers")[0] == "PENDING"


def test_accept_challenge_takes_it_up_for_the_challenged_team(running, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    code, out, err = run(capsys, "accept-challenge", "tbm_tide_challenge_tigers", "--active", "you,lu", "--json")
    assert code == 0 and err == ""
    assert json.loads(out) == {
        "matchId": "tbm_tide_challenge_tigers",
        "answer": "challenge-accepted",
        "acceptanceId": None,
        "teamId": "t_tigers",
        "message": "Challenge tbm_tide_challenge_tigers accepted; the match is on.",
    }
    assert match_row(running, "tbm_tide_challenge_tigers")[:2] == ("ACCEPTED", "t_tigers")
    players = running.runtime.store.query(
        "SELECT user_id FROM tb_match_players WHERE match_id = ? AND team_id = 't_tigers'", ("tbm_tide_challenge_tigers",)
    )
    assert {p[0] for p in players} == {"u_you", "u_lu"}


def test_accept_match_with_a_roster_takes_up_a_challenge_and_names_the_team_by_id(running, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    argv = ["accept-match", "tbm_tide_challenge_tigers", "--team", "paper-tigers", "--active", "you,lu", "--json"]
    code, out, err = run(capsys, *argv)
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert (doc["answer"], doc["teamId"], doc["acceptanceId"]) == ("challenge-accepted", "t_tigers", None)
    assert match_row(running, "tbm_tide_challenge_tigers")[:2] == ("ACCEPTED", "t_tigers")


def test_refuse_challenge_sends_the_reason(running, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    code, out, err = run(capsys, "refuse-challenge", "tbm_vipers_challenge_owls", "--reason", "Not this week")
    assert (code, out.strip(), err) == (0, "Challenge tbm_vipers_challenge_owls refused.", "")
    assert match_row(running, "tbm_vipers_challenge_owls") == ("CANCELLED", None, "Not this week")

    code, out, err = run(capsys, "refuse-challenge", "tbm_tide_challenge_tigers", "--json")
    assert code == 0 and (json.loads(out)["answer"], json.loads(out)["teamId"]) == ("challenge-refused", "t_tigers")
    assert match_row(running, "tbm_tide_challenge_tigers")[0] == "CANCELLED"


def test_a_challenge_answered_already_says_so(running, monkeypatch, capsys) -> None:
    # Once refused, the challenge is cancelled and no longer the challenged team's to read: the
    # service answers a second answer with "only the teams of this match may read it".
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    assert run(capsys, "refuse-challenge", "tbm_vipers_challenge_owls")[0] == 0
    for argv in (["refuse-challenge"], ["accept-challenge", "--active", "you,eli,ada,bo"]):
        code, out, err = run(capsys, argv[0], "tbm_vipers_challenge_owls", *argv[1:])
        assert code == 1 and out == ""
        assert one_error_line(err) == (
            "lobby: Match tbm_vipers_challenge_owls is no longer a challenge your teams can answer: "
            "answered already, withdrawn, or not to a team of yours."
        )
    assert match_row(running, "tbm_vipers_challenge_owls")[0] == "CANCELLED"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["accept-challenge", "tbm_vipers_hp", "--active", "you"], "is an open match, not a challenge"),
        (["accept-challenge", "tbm_tide_challenge_tigers", "--active", "you,rex"], "Not sent:"),
        (["accept-challenge", "tbm_tide_challenge_tigers", "--team", " ", "--active", "you,lu"], "--team needs"),
        ([*ACCEPT[:3], "", *ACCEPT[4:]], "--team needs"),
        (["refuse-challenge", "tbm_vipers_hp"], "is an open match, not a challenge"),
        (["refuse-challenge", "tbm_tide_challenge_tigers", "--reason", "no\x07thanks"], "control characters"),
    ],
    ids=["accept-open-match", "accept-bad-roster", "blank-team", "empty-team", "refuse-open-match", "refuse-bad-reason"],
)
def test_challenge_answers_the_client_can_judge_are_one_plain_line(running, monkeypatch, capsys, argv, words) -> None:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == "" and words in one_error_line(err)
    assert match_row(running, "tbm_tide_challenge_tigers")[0] == "PENDING"
    assert match_row(running, "tbm_vipers_hp")[0] == "PENDING"

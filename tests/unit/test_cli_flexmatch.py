"""`lobby tickets` and `lobby accept` against the emulator on a loopback port."""

from __future__ import annotations

import json
import os
import time

import boto3
import pytest

from lobby import paths
from lobby.cli import main
from lobby.config import config_file


@pytest.fixture
def gamelift(emulator):
    return boto3.client("gamelift", endpoint_url=emulator.url, region_name="us-east-1")


def use_profile(url: str | None, players: list[str], kind: str = "emulator", extra: str = "") -> None:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    endpoint = f'endpoint_url = "{url}"\n' if url else ""
    path.write_text(
        'profile = "t"\n'
        f'[profiles.t]\nkind = "{kind}"\n'
        f"[profiles.t.gamelift]\n{endpoint}players = {json.dumps(players)}\n{extra}"
    )


def duel(gamelift, name: str, timeout: int = 60) -> tuple[str, str]:
    gamelift.create_matchmaking_rule_set(
        Name=f"rules-{name}",
        RuleSetBody=json.dumps(
            {
                "ruleLanguageVersion": "1.0",
                "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 1}, {"name": "b", "minPlayers": 1, "maxPlayers": 1}],
            }
        ),
    )
    gamelift.create_matchmaking_configuration(
        Name=name,
        RuleSetName=f"rules-{name}",
        AcceptanceRequired=True,
        AcceptanceTimeoutSeconds=timeout,
        RequestTimeoutSeconds=600,
        FlexMatchMode="STANDALONE",
    )
    mine = gamelift.start_matchmaking(ConfigurationName=name, Players=[{"PlayerId": "alice"}])
    theirs = gamelift.start_matchmaking(ConfigurationName=name, Players=[{"PlayerId": "bob"}])
    ids = [mine["MatchmakingTicket"]["TicketId"], theirs["MatchmakingTicket"]["TicketId"]]
    for _ in range(500):  # a hang guard, not a timing assertion
        found = gamelift.describe_matchmaking(TicketIds=ids)["TicketList"]
        if all(t["Status"] == "REQUIRES_ACCEPTANCE" for t in found):
            return ids[0], ids[1]
        time.sleep(0.02)
    raise AssertionError("the emulator did not propose the match")


def status(gamelift, ticket: str) -> str:
    return gamelift.describe_matchmaking(TicketIds=[ticket])["TicketList"][0]["Status"]


def test_tickets_json_lists_what_awaits_my_players(emulator, gamelift, capsys):
    use_profile(emulator.url, ["alice"])
    mine, theirs = duel(gamelift, "cli-json")
    assert main(["tickets", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["profile"] == "t"
    [row] = doc["tickets"]
    assert list(row) == [
        "ticketId", "configurationName", "status", "players", "matchId", "progress",
        "deadline", "deadlineEstimated", "secondsLeft", "gameSession",
    ]
    assert (row["ticketId"], row["configurationName"], row["status"]) == (mine, "cli-json", "REQUIRES_ACCEPTANCE")
    assert row["players"] == [{"playerId": "alice", "team": row["players"][0]["team"], "answer": "PENDING", "mine": True}]
    assert row["progress"] == {"accepted": 0, "total": 2}
    assert 0 < row["secondsLeft"] <= 60 and row["deadlineEstimated"] is False

    assert main(["tickets", "--json", "--player", "bob"]) == 0
    assert [r["ticketId"] for r in json.loads(capsys.readouterr().out)["tickets"]] == [theirs]
    assert main(["tickets", "--json", "--all"]) == 0
    assert {r["ticketId"] for r in json.loads(capsys.readouterr().out)["tickets"]} >= {mine, theirs}


def test_tickets_table_and_empty_list(emulator, gamelift, capsys):
    use_profile(emulator.url, ["carol"])
    assert main(["tickets"]) == 0
    assert capsys.readouterr().out == "No tickets await your acceptance.\n"
    use_profile(emulator.url, ["alice"])
    mine, _ = duel(gamelift, "cli-table")
    assert main(["tickets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TICKET", "CONFIGURATION", "STATUS", "ACCEPTED", "LEFT", "PLAYERS"]
    cells = lines[1].split()
    assert cells[:4] == [mine, "cli-table", "REQUIRES_ACCEPTANCE", "0/2"] and cells[-1] == "alice*"


def test_accept_then_reject_answer_through_the_service(emulator, gamelift, capsys):
    use_profile(emulator.url, ["alice"])
    mine, theirs = duel(gamelift, "cli-accept")
    assert main(["accept", mine]) == 0
    assert capsys.readouterr().out == f"Accepted ticket {mine} for player alice.\n"
    assert main(["accept", theirs, "--player", "bob", "--reject", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["acceptanceType"] == "REJECT" and doc["ticketId"] == theirs
    assert doc["message"].startswith(f"Rejected ticket {theirs} for player bob")
    assert status(gamelift, theirs) == "CANCELLED"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["accept", "no-such-ticket", "--player", "alice"], "lobby: GameLift found nothing for AcceptMatch:"),
        (["accept", "bad id!", "--player", "alice"], "lobby: lobby did not send AcceptMatch: TicketId"),
    ],
)
def test_errors_are_one_plain_line_and_exit_1(emulator, capsys, argv, message):
    use_profile(emulator.url, ["alice"])
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(message)
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_wrong_status_is_a_plain_error(emulator, gamelift, capsys):
    use_profile(emulator.url, ["alice"])
    mine, theirs = duel(gamelift, "cli-wrong")
    gamelift.accept_match(TicketId=theirs, PlayerIds=["bob"], AcceptanceType="REJECT")
    for _ in range(500):
        if status(gamelift, mine) != "REQUIRES_ACCEPTANCE":
            break
        time.sleep(0.02)
    assert main(["accept", mine]) == 1
    assert capsys.readouterr().err.startswith("lobby: GameLift refused AcceptMatch:")


def test_the_running_emulator_is_found_by_its_announcement(emulator, capsys):
    use_profile(None, ["alice"])
    assert main(["tickets"]) == 1
    assert capsys.readouterr().err == (
        "lobby: No lobby emulator is running; start `lobby demo` or `lobby emulator` first.\n"
    )
    announce = paths.emulator_announcement()
    announce.parent.mkdir(parents=True, exist_ok=True)
    announce.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
    assert main(["tickets", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tickets"] == []


def test_accept_needs_to_know_who_answers(emulator, capsys):
    use_profile(emulator.url, [])
    assert main(["accept", "t-1"]) == 1
    assert capsys.readouterr().err.startswith("lobby: say who answers: --player ID")


def test_a_live_profile_without_a_feed_needs_ticket_ids(emulator, gamelift, capsys):
    use_profile(emulator.url, ["alice"], kind="live", extra='region = "us-east-1"\n')
    assert main(["tickets"]) == 1
    assert "pass --ticket ID, or set gamelift.feed_url" in capsys.readouterr().err
    mine, _ = duel(gamelift, "cli-live")
    assert main(["tickets", "--json", "--ticket", mine, "--ticket", "unknown"]) == 0
    [row] = json.loads(capsys.readouterr().out)["tickets"]
    assert (row["ticketId"], row["status"], row["progress"]) == (mine, "REQUIRES_ACCEPTANCE", None)


def test_unreachable_endpoint_is_a_plain_error(capsys):
    use_profile("http://127.0.0.1:9", ["alice"])
    assert main(["tickets"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lobby: Cannot connect to GameLift at http://127.0.0.1:9") and err.count("\n") == 1


def test_a_reader_that_goes_away_is_not_an_error(emulator, gamelift):
    import subprocess
    import sys

    use_profile(emulator.url, ["alice"])
    duel(gamelift, "cli-pipe")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lobby", "tickets", "--all", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # like `| head` exiting before lobby writes
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and b"Traceback" not in err, err


def test_tickets_explain_says_which_rule_holds_a_searching_ticket_back(emulator, gamelift, capsys):
    use_profile(emulator.url, ["low"])
    gamelift.create_matchmaking_rule_set(
        Name="rules-why",
        RuleSetBody=json.dumps(
            {
                "ruleLanguageVersion": "1.0",
                "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
                "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 1}, {"name": "b", "minPlayers": 1, "maxPlayers": 1}],
                "rules": [{
                    "name": "FairSkill", "type": "distance",
                    "measurements": ["avg(teams[*].players.attributes[skill])"],
                    "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))", "maxDistance": 10,
                }],  # fmt: skip
            }
        ),
    )
    gamelift.create_matchmaking_configuration(
        Name="why", RuleSetName="rules-why", AcceptanceRequired=False, RequestTimeoutSeconds=600,
        FlexMatchMode="STANDALONE",
    )  # fmt: skip
    ids = [
        gamelift.start_matchmaking(
            ConfigurationName="why", Players=[{"PlayerId": p, "PlayerAttributes": {"skill": {"N": s}}}]
        )["MatchmakingTicket"]["TicketId"]
        for p, s in (("low", 0), ("high", 1000))
    ]
    for _ in range(500):  # a hang guard, not a timing assertion
        assert main(["tickets", "--json", "--explain", "--ticket", ids[0]]) == 0
        [row] = json.loads(capsys.readouterr().out)["tickets"]
        if row["status"] == "SEARCHING" and row["explanation"] is not None:
            break
        time.sleep(0.02)
    assert row["explanation"]["heldBackBy"] == ["FairSkill"]
    assert row["explanation"]["rules"][0]["ruleName"] == "FairSkill"
    assert main(["tickets", "--explain", "--ticket", ids[0]]) == 0
    out = capsys.readouterr().out
    assert f"{ids[0]}: held back by FairSkill" in out and "FairSkill: passed" in out


LAB_RULES = {
    "ruleLanguageVersion": "1.0",
    "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
    "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
    "rules": [{
        "name": "FairSkill", "type": "distance", "measurements": ["avg(teams[*].players.attributes[skill])"],
        "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))", "maxDistance": 10,
    }],  # fmt: skip
    "expansions": [{"target": "rules[FairSkill].maxDistance", "steps": [{"waitTimeSeconds": 20, "value": 600}]}],
}


def lab_ticket(ticket_id: str, start: float, skill: float) -> dict[str, object]:
    return {"ticketId": ticket_id, "startTime": start,
            "players": [{"PlayerId": f"p-{ticket_id}", "PlayerAttributes": {"skill": {"N": skill}}}]}  # fmt: skip


def test_the_rule_set_lab_checks_a_file_and_names_the_rule_and_field(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(LAB_RULES))
    assert main(["ruleset", "check", str(good), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is True and doc["rules"] == ["FairSkill"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**LAB_RULES, "rules": [{"name": "Odd", "type": "nonsense"}]}))
    assert main(["ruleset", "check", str(bad), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is False and any("Odd" in p["section"] + p["message"] for p in doc["problems"])


def test_the_rule_set_lab_runs_tickets_on_a_virtual_clock(tmp_path, capsys):
    rules, tickets = tmp_path / "rules.json", tmp_path / "tickets.json"
    rules.write_text(json.dumps(LAB_RULES))
    tickets.write_text(json.dumps([lab_ticket("low", 0, 0), lab_ticket("high", 1, 1000), lab_ticket("far", 2, 5000)]))
    assert main(["ruleset", "run", str(rules), str(tickets), "--tick", "5", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (match,) = doc["matches"]
    # the two apart by 1000 match once both have waited 20 s (the newest ticket's wait counts)
    assert match["time"] == 25 and sorted(match["teams"]["red"] + match["teams"]["blue"]) == ["high", "low"]
    assert match["ruleEvaluationMetrics"][0]["ruleName"] == "FairSkill"
    (left,) = doc["unmatched"]
    assert left["ticketId"] == "far" and left["reasons"]
    assert main(["ruleset", "run", str(rules), str(tickets), "--tick", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 matches, 1 tickets left") and "match at 25 s" in out and "left far" in out


def test_the_rule_set_lab_keeps_additional_player_slots_open(tmp_path, capsys):
    rules, tickets = tmp_path / "rules.json", tmp_path / "tickets.json"
    rules.write_text(json.dumps({**LAB_RULES, "rules": [], "expansions": [],
                                 "teams": [{"name": "all", "minPlayers": 4, "maxPlayers": 4}]}))  # fmt: skip
    tickets.write_text(json.dumps([lab_ticket(f"t{n}", n, 10) for n in range(4)]))
    assert main(["ruleset", "run", str(rules), str(tickets), "--additional-player-count", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [sorted(m["teams"]["all"]) for m in doc["matches"]] == [["t0", "t1"], ["t2", "t3"]]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tick", "nan"], "--tick"),
        (["--tick", "1e-9"], "--tick"),
        (["--until", "inf"], "--until"),
        (["--additional-player-count", "-1"], "--additional-player-count"),
        (["--tick", "0.01", "--until", "1e6"], "ticks"),
    ],
)
def test_the_rule_set_lab_refuses_a_run_that_would_not_end(tmp_path, capsys, flags, message):
    rules, tickets = tmp_path / "rules.json", tmp_path / "tickets.json"
    rules.write_text(json.dumps(LAB_RULES))
    tickets.write_text(json.dumps([lab_ticket("only", 0, 0)]))
    try:
        status = main(["ruleset", "run", str(rules), str(tickets), *flags])
    except SystemExit as exc:  # argparse: a command-line mistake
        status = exc.code
    err = capsys.readouterr().err
    assert status in (1, 2) and message in err and "Traceback" not in err

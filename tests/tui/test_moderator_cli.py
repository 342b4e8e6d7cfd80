"""`lobby moderate` and `lobby web`: which feed the arguments choose, and the loopback rule."""

from __future__ import annotations

import json
import shlex

import pytest
from synthetic import sample_lobby

from lobby.cli import CliError, build_parser, main
from lobby.cli.moderate import build_source, is_loopback, moderate_command
from lobby.moderation.sources import EmulatorSource, ReplaySource
from lobby.moderation.sns import TopicSource
from lobby.moderation.sqs import SqsSource

T0 = 1_767_268_800.0


def parse(*argv: str):
    return build_parser().parse_args(["moderate", *argv])


def test_the_emulator_is_the_default_feed(monkeypatch):
    monkeypatch.setattr("lobby.paths.read_emulator_announcement", lambda: "http://127.0.0.1:4321")
    source = build_source(parse())
    assert isinstance(source, EmulatorSource) and source.url == "http://127.0.0.1:4321"
    assert build_source(parse("--emulator", "http://127.0.0.1:9/")).url == "http://127.0.0.1:9"


def test_without_any_feed_it_says_what_to_do(monkeypatch, capsys):
    monkeypatch.setattr("lobby.paths.read_emulator_announcement", lambda: None)
    with pytest.raises(CliError, match="no emulator is running"):
        build_source(parse())
    assert main(["moderate"]) == 1
    assert "lobby demo" in capsys.readouterr().err


def test_an_sqs_queue_or_a_recording(tmp_path):
    source = build_source(parse("--sqs", "https://sqs.eu-west-1.amazonaws.com/123456789012/flexmatch-events"))
    assert isinstance(source, SqsSource) and source.region == "eu-west-1"
    recording = tmp_path / "events.jsonl"
    recording.write_text("\n".join(json.dumps(e) for e in sample_lobby(T0)) + "\n\n")
    replay = build_source(parse("--replay", str(recording)))
    assert isinstance(replay, ReplaySource) and len(replay.items) == len(sample_lobby(T0))
    recording.write_text("{not json\n")
    with pytest.raises(CliError, match="events.jsonl:1"):
        build_source(parse("--replay", str(recording)))
    with pytest.raises(SystemExit):  # one feed at a time
        parse("--sqs", "https://sqs.eu-west-1.amazonaws.com/1/q", "--emulator", "http://127.0.0.1:1")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("10.0.0.5", False), ("example.org", False)],
)
def test_only_loopback_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_web_refuses_other_addresses_without_the_proxy_flag(capsys):
    assert main(["web", "--host", "0.0.0.0", "--emulator", "http://127.0.0.1:1"]) == 1
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0" in err and "--behind-auth-proxy" in err


def test_each_browser_session_runs_lobby_moderate_with_the_same_feed(tmp_path):
    args = build_parser().parse_args(["web", "--emulator", "http://127.0.0.1:8000", "--window", "60"])
    argv = shlex.split(moderate_command(args))
    assert argv[1:] == [
        "-m",
        "lobby",
        "moderate",
        "--emulator",
        "http://127.0.0.1:8000",
        "--window",
        "60.0",
        "--keep-finished",
        "300.0",
    ]


def test_a_topic_gives_each_console_its_own_queue_and_each_web_session_the_topic():
    arn = "arn:aws:sns:eu-central-1:123456789012:flexmatch-notifications"
    source = build_source(parse("--sns-topic", arn, "--raw-delivery"))
    assert isinstance(source, TopicSource) and source.region == "eu-central-1" and source.raw_delivery
    args = build_parser().parse_args(["web", "--sns-topic", arn])
    argv = shlex.split(moderate_command(args))
    assert argv[3:6] == ["moderate", "--sns-topic", arn]
    with pytest.raises(SystemExit):  # one feed at a time
        parse("--sns-topic", arn, "--sqs", "https://sqs.eu-west-1.amazonaws.com/1/q")

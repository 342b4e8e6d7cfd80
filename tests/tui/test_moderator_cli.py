"""`lobby moderate` and `lobby web`: which feed the arguments choose, and the loopback rule."""

from __future__ import annotations

import json
import shlex

import pytest
from synthetic import sample_lobby

from lobby.cli import CliError, build_parser, main
from lobby.cli.moderate import build_source, is_loopback, moderate_command
from lobby.moderation.merge import MergedSource
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
    with pytest.raises(SystemExit):  # AWS feeds and the emulator do not mix
        parse("--sns-topic", arn, "--emulator", "http://127.0.0.1:1")


def test_queues_and_topics_of_several_regions_repeat_and_mix_into_one_feed(tmp_path):
    east = "https://sqs.us-east-1.amazonaws.com/123456789012/flexmatch-events"
    west_arn = "arn:aws:sqs:eu-west-1:123456789012:flexmatch-events"
    topic = "arn:aws:sns:ap-southeast-2:123456789012:flexmatch-notifications"
    argv = ("--sqs", east, "--sns-topic", topic, "--sqs", west_arn, "--endpoint-url", "http://127.0.0.1:5000")
    source = build_source(parse(*argv))
    assert isinstance(source, MergedSource)
    kinds = [(type(s).__name__, s.region) for s in source.sources]
    assert kinds == [("SqsSource", "us-east-1"), ("SqsSource", "eu-west-1"), ("TopicSource", "ap-southeast-2")]
    # A queue given by ARN is read at its URL (here, at the given endpoint).
    assert source.sources[1].queue_url == "http://127.0.0.1:5000/123456789012/flexmatch-events"
    # Every feed lists its rejected messages in the one list the screen shows.
    assert all(s.rejects is source.rejects for s in source.sources)
    # Each browser session gets every feed again.
    web = build_parser().parse_args(["web", *argv])
    command = shlex.split(moderate_command(web))
    assert [command[i + 1] for i, word in enumerate(command) if word in ("--sqs", "--sns-topic")] == [east, west_arn, topic]
    # Recordings repeat too.
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (first, second):
        path.write_text("\n".join(json.dumps(e) for e in sample_lobby(T0)) + "\n")
    replays = build_source(parse("--replay", str(first), "--replay", str(second)))
    assert isinstance(replays, MergedSource) and len(replays.sources) == 2
    with pytest.raises(SystemExit):  # recordings and live queues do not mix
        parse("--replay", str(first), "--sqs", east)

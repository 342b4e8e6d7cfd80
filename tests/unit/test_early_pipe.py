"""The console's end of the early listing (lobby.cli.early.EarlyListing) over a real pipe: the
lines the helper writes, read as they come, never blocking; what is not a line left out; the
helper stopped and reaped on closing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from lobby.cli.early import DONE, EarlyListing
from lobby.core.offers import Offer, OfferKind, offer_json
from lobby.net.transports import Recorded
from lobby.tui.early import EarlyListed

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

TICKET = Offer(
    kind=OfferKind.FLEXMATCH_TICKET,
    id="t-ana",
    title="Ranked 5v5 · eu-west",
    status="REQUIRES_ACCEPTANCE",
    deadline=T0 + timedelta(seconds=42),
    players=("ana", "bo"),
    progress=(7, 10),
    facts={"match": "m-1"},
)
MATCH = Offer(
    kind=OfferKind.TEAMBATTLES_MATCH,
    id="m-101",
    title="Friday scrim",
    status="PENDING",
    deadline=T0 + timedelta(minutes=95),
    facts={"game": "Skyline Strike", "region": "EU"},
)
READ = Recorded("https://tb.example/v1/matches?status=PENDING", [("content-type", "application/json")], b'{"items": []}', 1767268800.5)


def line(item: dict[str, object]) -> bytes:
    """One line as the helper writes it (lobby.cli.early._write)."""
    return (json.dumps(item, separators=(",", ":")) + "\n").encode()


def flexmatch_line(skew: float = 1.5) -> bytes:
    return line({"backend": "flexmatch", "offers": [offer_json(TICKET)], "skew": skew})


def teambattles_line() -> bytes:
    return line({"backend": "teambattles", "offers": [offer_json(MATCH)], "skew": -0.25, "responses": [READ.json()]})


DONE_LINE = line({DONE: True})


def child(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


class Pipe:
    """The helper's end of the pipe, and the console's EarlyListing over the other end (as
    start_early_listing makes it: the read end non-blocking)."""

    def __init__(self, pid: int) -> None:
        read, self.write_fd = os.pipe()
        os.set_blocking(read, False)
        self.read_fd = read
        self.early = EarlyListing("bench", pid, read)

    def write(self, data: bytes) -> None:
        while data:
            data = data[os.write(self.write_fd, data) :]

    def end(self) -> None:
        """The helper ends: its end of the pipe closes (EOF)."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A helper still at work (it would run for 30 s)."""
    process = child("sleep", "30")
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


@pytest.fixture
def pipe(sleeper: subprocess.Popen[bytes]) -> Iterator[Pipe]:
    made = Pipe(sleeper.pid)
    yield made
    made.end()
    made.early.close()


def test_two_backends_then_done_is_complete(pipe: Pipe) -> None:
    early = pipe.early
    assert early.take() == [] and not early.finished and not early.complete  # nothing yet: no wait
    pipe.write(flexmatch_line())
    [flex] = early.take()
    assert (flex.backend, list(flex.offers), flex.skew) == ("flexmatch", [TICKET], 1.5)
    assert not early.finished
    pipe.write(teambattles_line() + DONE_LINE)
    [tb] = early.take()
    assert (tb.backend, list(tb.offers), tb.skew) == ("teambattles", [MATCH], -0.25)
    assert not early.finished  # done, but the pipe is still open
    pipe.end()
    assert early.take() == [] and early.finished and early.complete


def test_done_and_the_end_in_one_read(pipe: Pipe) -> None:
    pipe.write(flexmatch_line() + teambattles_line() + DONE_LINE)
    pipe.end()
    assert [listed.backend for listed in pipe.early.take()] == ["flexmatch", "teambattles"]
    assert pipe.early.finished and pipe.early.complete


def test_a_failed_backend_finishes_without_being_complete(pipe: Pipe) -> None:
    pipe.write(flexmatch_line() + line({"backend": "teambattles", "failed": True}) + DONE_LINE)
    pipe.end()
    assert [listed.backend for listed in pipe.early.take()] == ["flexmatch"]
    assert pipe.early.finished and not pipe.early.complete


@pytest.mark.parametrize(
    "bad",
    [
        b"not json\n",
        b"\xff\xfe\n",
        b"\n",
        b"[1, 2]\n",
        line({"offers": [], "skew": 0}),  # no backend
        line({"backend": 7, "offers": [], "skew": 0}),
        line({"backend": "teambattles", "offers": "none", "skew": 0}),
        line({"backend": "teambattles", "offers": [], "skew": "0"}),
        line({"backend": "teambattles", "offers": []}),
        line({"backend": "teambattles", "offers": [{"kind": "flexmatch-backfill"}], "skew": 0}),
        line({"backend": "teambattles", "offers": [{**offer_json(MATCH), "deadline": "soon"}], "skew": 0}),
        line({"backend": "teambattles", "offers": [offer_json(MATCH)], "skew": 0, "responses": "none"}),
        line({"backend": "teambattles", "offers": [offer_json(MATCH)], "skew": 0, "responses": [{"url": 1}]}),
        line({"backend": "teambattles", "offers": [offer_json(MATCH)], "skew": 0, "responses": [{**READ.json(), "body": "!"}]}),
    ],
    ids=lambda bad: repr(bad[:40]),
)
def test_a_line_that_is_not_one_is_left_out_and_the_listing_is_not_complete(pipe: Pipe, bad: bytes, caplog: pytest.LogCaptureFixture) -> None:
    pipe.write(flexmatch_line() + bad + DONE_LINE)
    pipe.end()
    assert [listed.backend for listed in pipe.early.take()] == ["flexmatch"]
    assert pipe.early.finished and not pipe.early.complete
    assert pipe.early.take_responses() == []
    assert "an early listing line left out" in caplog.text


@pytest.mark.parametrize("skew", ["NaN", "Infinity", "1e300"])
def test_a_skew_that_is_no_time_is_left_out(pipe: Pipe, skew: str) -> None:
    good = flexmatch_line()
    bad = good.replace(b'"skew":1.5', b'"skew":' + skew.encode()).replace(b"flexmatch", b"teambattles", 1)
    pipe.write(good + bad + DONE_LINE)
    pipe.end()
    assert [listed.backend for listed in pipe.early.take()] == ["flexmatch"]
    assert not pipe.early.complete


def test_the_end_without_done_finishes_without_being_complete(pipe: Pipe) -> None:
    pipe.write(flexmatch_line() + teambattles_line())
    pipe.end()
    assert len(pipe.early.take()) == 2
    assert pipe.early.finished and not pipe.early.complete


def test_a_line_cut_short_by_the_end_is_left_out(pipe: Pipe) -> None:
    pipe.write(flexmatch_line() + teambattles_line()[:20])
    pipe.end()
    assert [listed.backend for listed in pipe.early.take()] == ["flexmatch"]
    assert pipe.early.finished and not pipe.early.complete


def test_lines_split_across_writes_are_put_back_together(pipe: Pipe) -> None:
    data = flexmatch_line() + teambattles_line() + DONE_LINE
    listed: list[EarlyListed] = []
    for start in range(0, len(data), 7):  # 7 bytes at a time: every line split, some mid-character
        pipe.write(data[start : start + 7])
        listed += pipe.early.take()
        assert not pipe.early.finished
    pipe.end()
    listed += pipe.early.take()
    assert [(one.backend, list(one.offers)) for one in listed] == [("flexmatch", [TICKET]), ("teambattles", [MATCH])]
    assert pipe.early.complete


def test_a_listing_bigger_than_the_pipe_arrives_whole(pipe: Pipe) -> None:
    many = [Offer(kind=OfferKind.TEAMBATTLES_MATCH, id=f"m-{i}", title="x" * 200, status="PENDING") for i in range(2000)]
    data = line({"backend": "teambattles", "offers": [offer_json(o) for o in many], "skew": 0}) + DONE_LINE
    assert len(data) > 65536 * 4
    listed: list[EarlyListed] = []
    for start in range(0, len(data), 65536):  # what the pipe holds, written as it is read
        pipe.write(data[start : start + 65536])
        listed += pipe.early.take()
    pipe.end()
    listed += pipe.early.take()
    [tb] = listed
    assert list(tb.offers) == many and pipe.early.complete


def test_take_responses_gives_the_recorded_reads_once(pipe: Pipe) -> None:
    pipe.write(flexmatch_line() + teambattles_line() + DONE_LINE)
    pipe.early.take()
    assert pipe.early.take_responses() == [READ]
    assert pipe.early.take_responses() == []


def test_closing_stops_and_reaps_a_helper_still_at_work(sleeper: subprocess.Popen[bytes]) -> None:
    made = Pipe(sleeper.pid)
    made.write(flexmatch_line())
    assert sleeper.poll() is None  # still at work
    made.early.close()
    assert reaped(sleeper.pid)  # killed and waited for: no zombie left
    assert made.early.finished and made.early.take() == [] and not made.early.complete
    with pytest.raises(ValueError):
        made.early.fileno()
    with pytest.raises(OSError):
        os.fstat(made.read_fd)  # its end of the pipe is closed
    made.early.close()  # again: nothing to do
    made.end()


def test_closing_reaps_a_helper_that_has_ended() -> None:
    process = child(sys.executable, "-c", "pass")
    made = Pipe(process.pid)
    made.write(flexmatch_line() + teambattles_line() + DONE_LINE)
    made.end()
    # The helper has ended (a zombie until reaped): wait for it without reaping it.
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
    assert len(made.early.take()) == 2 and made.early.complete
    made.early.close()
    assert reaped(process.pid)
    assert made.early.complete  # closing after the end keeps what was read
    process.wait()


def test_closing_is_quiet_when_the_helper_was_reaped_already() -> None:
    process = child(sys.executable, "-c", "pass")
    process.wait()  # reaped by someone else
    made = Pipe(process.pid)
    made.end()
    made.early.close()
    assert made.early.finished

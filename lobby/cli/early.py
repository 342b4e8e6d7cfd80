"""The early listing of start-up: the console's second core lists the offers while the first
paints (tests/bench/test_bench_startup.py measures it).

Before the console imports Textual, :func:`start_early_listing` forks a helper process. At a
lower priority than the console, with no terminal, it validates the settings, builds the
profile's backends and lists each one's offers, then writes them to a pipe, one JSON line per
backend, and ends; the console shows them live as they arrive (:mod:`lobby.tui.early`). The
console builds its own backends meanwhile, as it always does, and they take over; TeamBattles'
reads of the helper are replayed to the console's own first listing, moments later
(:class:`~lobby.net.transports.PrimedTransport`), so the service is not asked twice.

Only where fork() is safe: a POSIX system other than macOS, and a process with one thread. The
helper ends by itself after :data:`EARLY_SECONDS`; the console stops and reaps it once its own
backends have listed, or when it exits. A helper that fails (settings not valid, no service)
only lists less: the console finds and says the reason itself.

One line per backend: ``{"backend": name, "offers": [offer_json...], "skew": seconds,
"responses": [Recorded.json...]}``, or ``{"backend": name, "failed": true}``; then
``{"done": true}``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    import httpx

    from lobby.net.transports import Recorded
    from lobby.tui.early import EarlyListed

log = logging.getLogger(__name__)

#: The helper's own deadline, in seconds: then it ends, listed or not.
EARLY_SECONDS = 10
#: How much lower the helper's priority is than the console's (nice(2) increment).
HELPER_NICENESS = 10
#: What the helper writes last.
DONE = "done"


def start_early_listing(
    profile: str, *, niceness: int = HELPER_NICENESS, deadline: int = EARLY_SECONDS
) -> EarlyListing | None:
    """Fork the helper that lists ``profile``'s offers, ``niceness`` below the console's
    priority and ending by itself after ``deadline`` seconds; None where that is not safe."""
    if not hasattr(os, "fork") or sys.platform == "darwin" or threading.active_count() != 1:
        return None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the helper
        os.close(read)
        try:
            _helper(write, profile, niceness, deadline)
        finally:
            os._exit(0)
    os.close(write)
    os.set_blocking(read, False)
    return EarlyListing(profile, pid, read)


def _helper(out: int, profile: str, niceness: int, deadline: int) -> None:
    import asyncio

    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the terminal is the console's
        os.dup2(devnull, fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.alarm(deadline)
    if niceness:
        os.nice(niceness)  # the console's first frame comes first
    try:
        asyncio.run(_list(out, profile))
    except BaseException:  # anything: the console says it, finding it itself
        pass


async def _list(out: int, profile: str) -> None:
    from lobby.cli import configured_settings
    from lobby.cli.profiles import stream_profile
    from lobby.core.errors import BackendError
    from lobby.core.offers import offer_json
    from lobby.net.transports import RecordingTransport
    from lobby.tui.switching import served

    settings = configured_settings()
    recorders: list[RecordingTransport] = []

    def recording(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        recorder = RecordingTransport(inner)
        recorders.append(recorder)
        return recorder

    async for connected in stream_profile(settings, profile, teambattles_transport=recording):
        one = served(connected)
        name = one.backend.name
        try:
            offers = await one.backend.list_offers()
        except BackendError:
            _write(out, {"backend": name, "failed": True})
            continue
        skew = 0.0 if one.clock is None else one.clock.timestamp() - time.time()
        line: dict[str, object] = {"backend": name, "offers": [offer_json(o) for o in offers], "skew": skew}
        if name == "teambattles":
            line["responses"] = [r.json() for recorder in recorders for r in recorder.recorded]
        _write(out, line)
    _write(out, {DONE: True})


def _write(out: int, line: dict[str, object]) -> None:
    data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
    while data:  # blocks while the pipe is full: the console reads once it has painted
        data = data[os.write(out, data) :]


#: The largest skew believed, in seconds: a service's clock a year away is no clock.
MAX_SKEW = 366 * 24 * 3600.0


def _is_skew(value: object) -> TypeGuard[float]:
    """A number of seconds that can be a clock's skew (not NaN, not infinite, not absurd)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= MAX_SKEW


class EarlyListing:
    """The console's end of the pipe (:class:`lobby.tui.early.EarlyListing`), and the TeamBattles
    reads the helper made (:meth:`take_responses`)."""

    def __init__(self, profile: str, pid: int, fd: int) -> None:
        self.profile = profile
        self._pid: int | None = pid
        self._fd: int | None = fd
        self._buffer = b""
        self._done = False
        self._failed = False
        self._finished = False
        self._responses: list[Recorded] = []

    def fileno(self) -> int:
        if self._fd is None:
            raise ValueError("the early listing is closed")
        return self._fd

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def complete(self) -> bool:
        return self._finished and self._done and not self._failed

    def take(self) -> list[EarlyListed]:
        listed: list[EarlyListed] = []
        while self._fd is not None and not self._finished:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                self._finished = True
                break
            self._buffer += data
            *lines, self._buffer = self._buffer.split(b"\n")
            for line in lines:
                found = self._read(line)
                if found is not None:
                    listed.append(found)
        return listed

    def _read(self, line: bytes) -> EarlyListed | None:
        from lobby.core.offers import offer_from_json
        from lobby.tui.early import EarlyListed

        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not an object")
            if item.get(DONE) is True:
                self._done = True
                return None
            name, offers, skew = item.get("backend"), item.get("offers"), item.get("skew")
            if not isinstance(name, str):
                raise ValueError("no backend")
            if item.get("failed") is True:
                self._failed = True
                return None
            if not isinstance(offers, list) or not _is_skew(skew):
                raise ValueError("no offers, or no skew that is a time")
            listed = EarlyListed(name, [offer_from_json(o) for o in offers], float(skew))
            self._keep_responses(item.get("responses", []))
            return listed
        except ValueError as exc:  # a line that is not one: that backend counts as not listed
            log.warning("an early listing line left out: %s", exc)
            self._failed = True
            return None

    def _keep_responses(self, responses: object) -> None:
        from lobby.net.transports import Recorded

        if not isinstance(responses, list):
            raise ValueError("responses are not a list")
        self._responses += [Recorded.from_json(r) for r in responses]

    def take_responses(self) -> list[Recorded]:
        """The helper's TeamBattles reads, for the console's own first listing (once)."""
        found, self._responses = self._responses, []
        return found

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
            self._finished = True
        pid, self._pid = self._pid, None
        if pid is None:
            return
        try:
            if os.waitpid(pid, os.WNOHANG) == (0, 0):  # still at work: it adds nothing now
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        except ChildProcessError:
            pass

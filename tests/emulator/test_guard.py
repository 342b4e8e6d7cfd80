"""The emulator safe to share: no request runs on part of its body, the event stream refuses
ids it cannot hold with a 400, the control plane is guarded beyond loopback, every route caps
its body, and a client leaving mid-body is no error."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from httpx_sse import connect_sse

from lobby.core.events import INSTANCE_HEADER, EventSource
from lobby.emulator.guard import BODY_CAP, is_loopback, public_event
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread

from flexmatch_helpers import config_for, gamelift, setup_matchmaker, start, statuses
from teambattles_helpers import VIPERS_HP, YOU, owls_accept

GAMELIFT, TEAMBATTLES = EventSource.GAMELIFT, EventSource.TEAMBATTLES
HANG = 10  # a guard against hangs only


def _send_cut_short(url: str, head: str, body: bytes, declared: int) -> None:
    """Send a request whose Content-Length promises more than ``body``, then go away."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=HANG) as sock:
        request = head.replace("\n", "\r\n") + f"Content-Length: {declared}\r\n\r\n"
        sock.sendall(request.encode() + body)
        time.sleep(0.2)  # let the server read what was sent before the connection goes


def _settle(emu: EmulatorThread) -> None:
    """Let the emulator handle anything still queued (a health check answers after it)."""
    httpx.get(emu.url + "/_emulator/health", timeout=HANG)


# --- whole bodies only ---------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [1, 100])
def test_a_flexmatch_request_cut_short_runs_nothing(tmp_path, caplog, extra):
    with EmulatorThread(config_for(tmp_path)) as emu:
        client = gamelift(emu.url, aws_access_key_id="AKID", aws_secret_access_key="x" * 40)
        setup_matchmaker(client, acceptance=None, request_timeout=3600)
        start(client, "cfg", "t-cut", "p1")
        body = json.dumps({"TicketId": "t-cut"}).encode()  # complete JSON, yet cut short
        head = (
            "POST / HTTP/1.1\nHost: emulator\nContent-Type: application/x-amz-json-1.1\n"
            "X-Amz-Target: GameLift.StopMatchmaking\n"
        )
        with caplog.at_level(logging.DEBUG, logger="lobby"):
            _send_cut_short(emu.url, head, body, len(body) + extra)
            _settle(emu)
        assert statuses(client, "t-cut")["t-cut"] != "CANCELLED"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_teambattles_request_cut_short_runs_nothing_and_logs_no_traceback(emulator, caplog):
    body = json.dumps(owls_accept()).encode()
    head = (
        f"POST /api/v1/matches/{VIPERS_HP}/accept HTTP/1.1\nHost: emulator\n"
        f"Authorization: Bearer {YOU}\nContent-Type: application/json\n"
    )
    before = emulator.runtime.events.last_id()
    with caplog.at_level(logging.DEBUG):
        _send_cut_short(emulator.url, head, body, len(body) + 10)
        _settle(emulator)
    assert emulator.runtime.events.last_id() == before  # nothing ran
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    # The same request sent whole runs.
    r = httpx.post(
        emulator.url + f"/api/v1/matches/{VIPERS_HP}/accept",
        content=body,
        headers={"Authorization": f"Bearer {YOU}", "Content-Type": "application/json"},
        timeout=HANG,
    )
    assert r.status_code == 200, r.text
    assert emulator.runtime.events.last_id() > before


def test_the_teambattles_routes_let_a_client_leaving_mid_body_through(caplog):
    """Behind the guard a route never sees a body cut short; on its own, a TeamBattles route
    whose client leaves while sending lets starlette's ClientDisconnect through: no 500
    envelope is sent for it, and no error is logged."""
    import asyncio

    from starlette.requests import ClientDisconnect

    from lobby.emulator.app import create_app

    app = create_app(EmulatorConfig())
    body = json.dumps(owls_accept()).encode()
    incoming = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": f"/api/v1/matches/{VIPERS_HP}/accept", "raw_path": b"",
        "root_path": "", "query_string": b"", "client": ("127.0.0.1", 5000), "server": ("e", 80),
        "headers": [
            (b"host", b"e"), (b"authorization", f"Bearer {YOU}".encode()),
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        ],
    }  # fmt: skip
    before = app.state.runtime.events.last_id()
    try:
        with caplog.at_level(logging.DEBUG, logger="lobby"), pytest.raises(ClientDisconnect):
            asyncio.run(app(scope, receive, send))
        assert app.state.runtime.events.last_id() == before  # nothing ran
    finally:
        app.state.runtime.store.close()
    assert not [m for m in sent if b"error_internal" in m.get("body", b"")]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


def test_a_control_request_cut_short_changes_nothing(emulator):
    body = json.dumps({"rate": 1.0}).encode()
    _send_cut_short(emulator.url, "PUT /_emulator/faults HTTP/1.1\nHost: emulator\n", body, len(body) + 5)
    _settle(emulator)
    assert httpx.get(emulator.url + "/_emulator/faults").json()["enabled"] is False


# --- the event stream: numbers of any size --------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [str(2**63), str(2**64), "9" * 40, "9" * 5000, "-1", "-" + str(2**63), "1e3", "0x10", "+5", "1_000"],
)
def test_an_event_id_out_of_range_is_a_400_never_an_aborted_stream(emulator, value):
    r = httpx.get(emulator.url + "/_emulator/events", headers={"Last-Event-ID": value}, timeout=HANG)
    assert r.status_code == 400 and r.json()["error"] == "bad_last_event_id"
    r = httpx.get(emulator.url + "/_emulator/events", params={"after": value}, timeout=HANG)
    assert r.status_code == 400 and r.json()["error"] == "bad_after"


def test_digits_that_are_not_ascii_are_no_event_id(emulator):
    r = httpx.get(emulator.url + "/_emulator/events", params={"after": "\uff11\uff12"}, timeout=HANG)
    assert r.status_code == 400 and r.json()["error"] == "bad_after"


@pytest.mark.parametrize("value", [str(2**63 - 1), "0", "7"])
def test_the_largest_event_id_opens_a_stream(emulator, value):
    with httpx.Client(timeout=HANG) as client:
        with client.stream("GET", emulator.url + "/_emulator/events", headers={"Last-Event-ID": value}) as r:
            assert r.status_code == 200
            assert next(r.iter_lines()) == ": stream open"


# --- body caps ------------------------------------------------------------------------------------


def test_every_control_route_caps_its_body(emulator):
    big = b"{" + b" " * (BODY_CAP + 10) + b"}"
    for method, path in [("PUT", "/_emulator/faults"), ("POST", "/_emulator/faults"), ("POST", "/_emulator/clock")]:
        r = httpx.request(method, emulator.url + path, content=big, timeout=HANG)
        assert r.status_code == 413 and r.json()["error"] == "body_too_large", (method, path)

        def chunks():
            for _ in range(64):
                yield b" " * 4096

        r = httpx.request(method, emulator.url + path, content=chunks(), timeout=HANG)
        assert r.status_code == 413, (method, path, "chunked")
    assert httpx.get(emulator.url + "/_emulator/faults").json()["enabled"] is False


def test_a_huge_declared_length_is_refused_without_reading(emulator):
    parts = urlsplit(emulator.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=HANG) as sock:
        sock.sendall(b"PUT /_emulator/faults HTTP/1.1\r\nHost: e\r\nContent-Length: 268435456\r\n\r\n")
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


# --- the guarded control plane --------------------------------------------------------------------


@pytest.fixture
def guarded():
    with EmulatorThread(EmulatorConfig(control_token="let-me-in", time_travel=True)) as emu:
        yield emu


def test_beyond_loopback_means_every_host_but_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert is_loopback("127.3.2.1") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("192.168.1.4")
    assert not is_loopback("example.com")


def test_beyond_loopback_the_emulator_makes_a_token_when_none_is_given():
    from lobby.emulator.app import create_app

    assert create_app(EmulatorConfig()).state.control_token is None
    token = create_app(EmulatorConfig(public_host="0.0.0.0")).state.control_token
    assert isinstance(token, str) and len(token) >= 24
    assert token != create_app(EmulatorConfig(public_host="0.0.0.0")).state.control_token
    given = create_app(EmulatorConfig(public_host="0.0.0.0", control_token="mine"))
    assert given.state.control_token == "mine"


def test_the_control_routes_need_the_token(guarded):
    url = guarded.url
    for method, path, body in [
        ("GET", "/_emulator/faults", None),
        ("PUT", "/_emulator/faults", {"rate": 1.0}),
        ("POST", "/_emulator/faults", {"rate": 1.0}),
        ("DELETE", "/_emulator/faults", None),
        ("POST", "/_emulator/clock", {"advanceSeconds": 60}),
        ("GET", "/_emulator/openapi.json", None),
        ("GET", "/_emulator/docs", None),
    ]:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Emulator-Token": "let-me-i"}):
            r = httpx.request(method, url + path, json=body, headers=headers, timeout=HANG)
            assert r.status_code == 401 and r.json()["error"] == "unauthorized", (method, path, headers)
    assert guarded.app.state.faults.settings.rate == 0.0
    for headers in ({"Authorization": "Bearer let-me-in"}, {"X-Emulator-Token": "let-me-in"}):
        r = httpx.put(url + "/_emulator/faults", json={"rate": 0.5, "seed": 1}, headers=headers, timeout=HANG)
        assert r.status_code == 200 and r.json()["rate"] == 0.5
    assert httpx.get(url + "/_emulator/health", timeout=HANG).status_code == 200


def _stream(url: str, n: int, headers: dict[str, str] | None = None) -> list[tuple[str, dict]]:
    got: list[tuple[str, dict]] = []
    with httpx.Client(timeout=HANG) as client:
        with connect_sse(client, "GET", url + "/_emulator/events", headers=headers or {}) as src:
            for sse in src.iter_sse():
                got.append((sse.event, sse.json()))
                if len(got) == n:
                    break
    return got


def test_without_the_token_the_stream_shows_what_the_apis_show_anyone(guarded):
    log = guarded.runtime.events
    total = log.last_id()
    public = [e for e in log.since(0, limit=10_000) if public_event(e, signed=False)]
    hidden = [e for e in log.since(0, limit=10_000) if not public_event(e, signed=False)]
    assert public and hidden  # the demo has drafts and acceptances
    assert all(e.payload["data"]["match"]["publishStatus"] == "PUBLISHED" for e in public if e.source == TEAMBATTLES)
    log.append(GAMELIFT, "T", {"marker": "last"})
    anonymous = _stream(guarded.url, len(public) + 1)
    assert [p for _, p in anonymous] == [e.payload for e in public] + [{"marker": "last"}]
    assert len(_stream(guarded.url, total + 1, {"Authorization": "Bearer let-me-in"})) == total + 1


def test_public_events_are_published_matches_and_unsigned_tickets():
    from lobby.emulator.events import Event

    def tb(kind: str, status: str) -> Event:
        return Event(1, TEAMBATTLES, kind, 0.0, "m", {"data": {"match": {"publishStatus": status}}})

    assert public_event(tb("match.published", "PUBLISHED"), signed=False)
    assert not public_event(tb("match.created", "DRAFT"), signed=False)
    assert not public_event(tb("acceptance.created", "PUBLISHED"), signed=False)
    assert not public_event(Event(1, TEAMBATTLES, "match.x", 0.0, None, {"data": []}), signed=False)
    ticket = Event(1, GAMELIFT, "T", 0.0, None, {})
    assert public_event(ticket, signed=False) and not public_event(ticket, signed=True)


def test_the_stream_names_its_instance_and_the_health_check_too(emulator):
    instance = httpx.get(emulator.url + "/_emulator/health").json()["instance"]
    assert isinstance(instance, str) and len(instance) >= 16
    with httpx.Client(timeout=HANG) as client:
        with client.stream("GET", emulator.url + "/_emulator/events") as r:
            assert r.headers[INSTANCE_HEADER] == instance


def _emulator_process(*more: str, token: str | None = None) -> subprocess.Popen[str]:
    import os
    import tempfile

    state = tempfile.mkdtemp(prefix="lobby-state-")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), "LOBBY_STATE_DIR": state}
    env.pop("LOBBY_EMULATOR_TOKEN", None)
    if token is not None:
        env["LOBBY_EMULATOR_TOKEN"] = token
    argv = [sys.executable, "-m", "lobby", "emulator", "--db", ":memory:", *more]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _local(url: str) -> str:
    return "http://127.0.0.1:" + url.rsplit(":", 1)[1]


def test_listening_beyond_loopback_says_what_is_exposed_and_prints_a_made_token_once():
    proc = _emulator_process("--host", "0.0.0.0")
    try:
        assert proc.stdout is not None and proc.stderr is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://0.0.0.0:")
        said = [proc.stderr.readline() for _ in range(4)]
        text = "".join(said)
        assert "beyond loopback" in text and "/_emulator/faults" in text and "NOT checked" in text
        token = said[-1].rsplit(": ", 1)[1].strip()
        assert "shown this once" in said[-1] and len(token) >= 24
        local = _local(url)
        assert httpx.get(local + "/_emulator/faults", timeout=HANG).status_code == 401
        r = httpx.get(local + "/_emulator/faults", headers={"Authorization": f"Bearer {token}"}, timeout=HANG)
        assert r.status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=HANG)
    assert token not in out + err  # shown once, and only once


def test_a_given_token_is_never_printed():
    proc = _emulator_process("--host", "0.0.0.0", token="given-token-value-1234")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        local = _local(url)
        headers = {"X-Emulator-Token": "given-token-value-1234"}
        assert httpx.get(local + "/_emulator/faults", headers=headers, timeout=HANG).status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=HANG)
    assert "given-token-value-1234" not in out + err and "LOBBY_EMULATOR_TOKEN" in err


def test_on_loopback_the_emulator_says_nothing_more():
    proc = _emulator_process()
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert httpx.get(url + "/_emulator/faults", timeout=HANG).status_code == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=HANG)
    assert "beyond loopback" not in err


# --- idle and slow connections --------------------------------------------------------------------


def _connect(url: str, rcvbuf: int | None = None) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(HANG)
    sock.connect((parts.hostname, parts.port))
    return sock


def _closed(sock: socket.socket) -> bool:
    """Read until the server closes the connection (True) or HANG passes (timeout)."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


def test_a_connection_that_sends_no_request_is_closed_and_live_streams_go_on(monkeypatch):
    from lobby.emulator import server

    monkeypatch.setattr(server, "REQUEST_HEAD_SECONDS", 0.3)
    with EmulatorThread(EmulatorConfig()) as emu:
        start = emu.runtime.events.last_id()
        idle = _connect(emu.url)
        trickle = _connect(emu.url)
        trickle.sendall(b"GET /_emulator/health HT")  # and never the rest
        with httpx.Client(timeout=HANG) as client:
            headers = {"Last-Event-ID": str(start)}
            with connect_sse(client, "GET", emu.url + "/_emulator/events", headers=headers) as src:
                assert _closed(idle) and _closed(trickle)
                emu.runtime.events.append(GAMELIFT, "after", {"ok": True})
                first = next(src.iter_sse())
                assert (first.event, first.json()) == ("after", {"ok": True})
        idle.close()
        trickle.close()


def test_a_stream_whose_reader_stalls_is_closed_and_the_others_get_everything(monkeypatch):
    from lobby.emulator import guard

    monkeypatch.setattr(guard, "SEND_TIMEOUT", 0.5)
    with EmulatorThread(EmulatorConfig()) as emu:
        start = emu.runtime.events.last_id()
        stalled = _connect(emu.url, rcvbuf=4096)
        stalled.sendall(
            f"GET /_emulator/events HTTP/1.1\r\nHost: e\r\nLast-Event-ID: {start}\r\n\r\n".encode()
        )
        time.sleep(0.2)
        blob = "x" * 16_000
        count = 400  # about 6 MB: more than the socket buffers of the stalled reader hold
        got = 0
        with httpx.Client(timeout=HANG) as client:
            headers = {"Last-Event-ID": str(start)}
            with connect_sse(client, "GET", emu.url + "/_emulator/events", headers=headers) as src:
                for i in range(count):
                    emu.runtime.events.append(GAMELIFT, "big", {"i": i, "blob": blob})
                for sse in src.iter_sse():
                    assert sse.json()["i"] == got
                    got += 1
                    if got == count:
                        break
        assert got == count
        # Its next write waits for room past the deadline: the server gives up on it.
        emu.runtime.events.append(GAMELIFT, "one more", {})
        time.sleep(1.5)
        assert _closed(stalled)  # (else this read times out)
        stalled.close()

"""The captain's flow as a person types it, in a real terminal (tmux): `lobby demo` starts, offers
are answered with the keys a person would press, and what the emulator recorded (its control
plane's event stream) is checked next to what the screen shows. Skipped where tmux is not
installed.

Every step waits for what the screen or the emulator must show next (a guard of minutes against
a hang, never a pause that hopes): the tests hold on a loaded machine.

Flow control is off in the pane (`stty -ixon`), as most terminal emulators have it: with it on,
the terminal driver itself takes ctrl+s (XOFF) and freezes output until ctrl+q (XON); the
console never sees either key, and "Send (ctrl+s)" seems to do nothing.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from lobby.cli.app import demo_identity
from lobby.tui.drafts import DRAFTS_FILE, SENT

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

HANG = 120.0  # a guard against hangs only (a loaded machine starts the demo slowly)
#: The whole-flow test waits for the demo's bots to find a match for the captain's players: on
#: a loaded machine that can take a while. A guard, not a timing.
PATIENCE = 180.0

T = TypeVar("T")


class Terminal:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False)
        return done.stdout

    def screen(self, target: str = "cap") -> str:
        return self.tmux("capture-pane", "-p", "-t", target)

    def keys(self, *keys: str, target: str = "cap") -> None:
        for key in keys:
            self.tmux("send-keys", "-t", target, key)
            time.sleep(0.2)

    def type(self, text: str, target: str = "cap") -> None:
        """Type ``text`` literally, as one burst of keys."""
        self.tmux("send-keys", "-t", target, "-l", text)

    def wait_for(self, text: str, target: str = "cap", within: float = HANG) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            shown = self.screen(target)
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never showed; the screen:\n{self.screen(target)}")

    def wait_for_all(self, target: str, *texts: str, within: float = HANG) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            shown = self.screen(target)
            if all(text in shown for text in texts):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{texts!r} never all showed; the screen:\n{self.screen(target)}")


#: The README's "act as the demo captain from another terminal": the profile's user, from the environment.
AS_THE_CAPTAIN = "LOBBY_PROFILES__EMULATOR__KIND=emulator LOBBY_PROFILES__EMULATOR__TEAMBATTLES__USER=you"

def test_the_captain_picks_a_match_and_keeps_the_draft_in_tmux(
    demo_terminal: tuple[Terminal, dict[str, str]],
) -> None:
    term, env = demo_terminal
    # Flow control off, as most terminal emulators have it: with it on, the tty itself takes
    # ctrl+s (XOFF) and the screen freezes before the console ever sees the key.
    command = " ".join(["stty -ixon;", sys.executable, "-m", "lobby", "demo"])
    subprocess.run(
        ["tmux", "-L", term.socket, "new-session", "-d", "-s", "cap", "-x", "120", "-y", "40", command],
        env=env,
        check=True,
    )
    term.wait_for("Open matches (")
    term.keys("2", "Enter")  # the first open match: Tidebreakers' skirmish, 1v1
    term.wait_for("Roster: exactly 1 active")
    term.wait_for("u_you")
    term.keys("down", "a")  # u_you plays
    term.wait_for("[A]  u_you")
    term.keys("Escape")  # leave: the draft is kept, and the console says so
    term.wait_for("Draft kept")
    term.keys("Enter")  # reopen the same match: the roster comes back as it was
    term.wait_for("Your draft for this offer is back")
    assert "[A]  u_you" in term.wait_for("Roster: exactly 1 active")
    term.keys("C-q")


# --- the whole flow, at two sizes, twice in a row -------------------------------------------------


def until(found: Callable[[], T | None], what: str, within: float = HANG) -> T:
    """Until ``found()`` gives something (returned), at most ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = found()
        if value is not None:
            return value
        time.sleep(0.2)
    raise AssertionError(f"never: {what}")


class Recorded:
    """What the emulator recorded: every event of its control plane's stream, from the first,
    read in a thread as they come."""

    def __init__(self, url: str) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._thread.start()

    def _read(self, url: str) -> None:
        kind = None
        try:
            with httpx.Client(timeout=httpx.Timeout(10.0, read=None)) as http:
                with http.stream("GET", url + "/_emulator/events?after=0") as stream:
                    for line in stream.iter_lines():
                        if self._stop.is_set():
                            return
                        if line.startswith("event:"):
                            kind = line.split(":", 1)[1].strip()
                        elif line.startswith("data:") and kind is not None:
                            with self._lock:
                                self.events.append((kind, json.loads(line.split(":", 1)[1])))
        except httpx.HTTPError:
            return  # the emulator went away with the demo

    def stop(self) -> None:
        self._stop.set()

    def find(self, kind: str, test: Callable[[dict[str, object]], bool]) -> dict[str, object] | None:
        with self._lock:
            return next((data for k, data in self.events if k == kind and test(data)), None)


def section_rows(screen: str, title: str) -> list[str]:
    """The rows of one home section (below its column headings), as shown."""
    lines = screen.splitlines()
    start = next((i for i, line in enumerate(lines) if f"─ {title}" in line), None)
    if start is None:
        return []
    rows = []
    for line in lines[start + 2 :]:  # the border, then the column headings
        if not line.startswith("│"):
            break
        rows.append(line.strip("│ "))
    return [row for row in rows if row]


def seconds(left: str) -> int:
    parts = [int(p) for p in left.split(":")]
    return sum(p * 60**i for i, p in enumerate(reversed(parts)))


def answerable_ticket(screen: str) -> int | None:
    """The index of the first ticket in "Awaiting you" with time enough left to answer it."""
    for i, row in enumerate(section_rows(screen, "Awaiting you (")):
        left = row.split()[-1]
        if row.startswith("Ticket") and re.fullmatch(r"\d+:\d\d", left) and seconds(left) >= 15:
            return i
    return None


def accept_for_one_player(term: Terminal, recorded: Recorded) -> None:
    """Open a ticket of the captain's players from "Awaiting you" and accept it for its first
    player only; the emulator records that player's acceptance and no other's. A ticket the bots
    cancel meanwhile (one of them rejected) is given up for the next one."""
    for _ in range(6):
        index = until(lambda: answerable_ticket(term.screen()), "a ticket to answer", PATIENCE)
        term.keys("1", *["Up"] * 12, *["Down"] * index, "Enter")
        shown = until(lambda: None if "─ Awaiting you" in (s := term.screen()) else s, "an answer screen")
        head = re.search(r"ticket (\S+) · configuration", shown)
        if head is None:  # the rows moved under the cursor: back, and again
            term.keys("Escape")
            term.wait_for("Awaiting you (")
            continue
        ticket = head.group(1)
        players = re.findall(r"▐X▌ (\S+)", shown)
        assert players, shown
        # Every player starts chosen: keep the first, leave the others for later.
        term.keys("Home", *(key for _ in players[1:] for key in ("Down", "space")), "a")
        first = players[0]

        def accepted(ticket: str = ticket, first: str = first) -> dict[str, object] | None:
            def mine(data: dict[str, object]) -> bool:
                detail = data["detail"]
                assert isinstance(detail, dict)
                return detail.get("type") == "AcceptMatch" and any(
                    t["ticketId"] == ticket and any(p["playerId"] == first and p.get("accepted") for p in t["players"])
                    for t in detail["tickets"]
                )

            return recorded.find("AcceptMatch", mine)

        try:
            event = until(accepted, f"the emulator recording {first}'s acceptance of {ticket}", 30)
        except AssertionError:
            if "accepted" in term.screen():
                raise
            term.keys("Escape")  # not taken (the match fell through): the next ticket
            term.wait_for("Awaiting you")
            continue
        detail = event["detail"]
        assert isinstance(detail, dict)
        [ours] = [t for t in detail["tickets"] if t["ticketId"] == ticket]
        # The others were not answered for: they stay answerable.
        assert [p["playerId"] for p in ours["players"] if p.get("accepted")] == [first]
        term.wait_for(f"{first}  accepted")
        term.keys("Escape")
        term.wait_for("Awaiting you")
        return
    raise AssertionError("no ticket of the captain's players could be answered")


MESSAGE = "GL HF from the tmux captain"


def one_line(screen: str) -> str:
    """The screen's words, wrapping undone (a long sentence wraps at 80 columns)."""
    return " ".join(screen.split())


def type_into_empty_field(term: Terminal, text: str, counter: str) -> None:
    """Type ``text`` into the focused, empty field whose counter ends with ``counter``.

    Its first letter is typed alone and waited for. Textual hands each key to the widget
    focused when the app reads it, and Tab (a screen binding) moves the focus only once that
    widget has handled it: on a loaded machine, letters typed right after Tab reach the widget
    left behind, which drops them (a person would type the letter again once they saw it was
    not there)."""
    for _ in range(5):
        term.type(text[0])
        try:
            term.wait_for(f" 1{counter}", within=15)
            break
        except AssertionError:
            continue
    else:
        raise AssertionError(f"the field never took a letter; the screen:\n{term.screen()}")
    term.type(text[1:])
    term.wait_for(f" {len(text)}{counter}")


def draft_with(state: Path, what: str, check: Callable[[dict[str, object]], bool]) -> None:
    """Wait until the console keeps a draft (its drafts file in ``state``) that passes ``check``:
    the form took the keys before, so the next ones go where they should."""

    def kept() -> bool | None:
        try:
            drafts = json.loads((state / DRAFTS_FILE).read_text())
        except (OSError, ValueError):
            return None
        return any(check(d) for k, d in drafts.items() if not k.startswith(SENT)) or None

    until(kept, what)


def send_a_request(term: Terminal, recorded: Recorded, state: Path) -> str:
    """Open the first open match (the demo's Tidebreakers skirmish, 1v1), fill the roster, the
    bench, the maps and the message, and send it with ctrl+s; what the emulator recorded is
    exactly that. The acceptance id."""
    term.keys("2", *["Up"] * 12, "Enter")
    term.wait_for("Roster: exactly 1 active")
    term.wait_for("u_mo")
    term.keys("Down", "a")  # u_you plays
    term.wait_for("[A]  u_you")
    term.keys("Down", "b")
    term.wait_for("[B1] u_lu")
    term.keys("Down", "b")
    term.wait_for("[B2] u_mo")
    term.keys("Tab", "Right", "Enter")  # the map mode: Preferred
    draft_with(state, "the map mode in the draft", lambda d: d.get("map_mode") == 1)
    term.wait_for("reef")
    term.keys("Tab", "Home", "space")  # the first map of the pool
    draft_with(state, "the map in the draft", lambda d: d.get("maps") == ["reef"])
    term.keys("Tab")  # the message
    type_into_empty_field(term, MESSAGE, "/500")
    term.wait_for("Ready to send")
    term.keys("C-s")

    def created() -> dict[str, object] | None:
        found = recorded.find(
            "emulator.acceptance.created",
            lambda data: data["data"]["acceptance"]["matchId"] == "tbm_tide_skirmish",  # type: ignore[index]
        )
        return None if found is None else found["data"]["acceptance"]  # type: ignore[index,return-value]

    record = until(created, "the emulator recording the request")
    assert record["teamId"] == "t_tigers" and record["submittedBy"] == "u_you"
    assert record["activeRoster"] == ["u_you"]
    assert record["benchRoster"] == [{"id": "u_lu", "priority": 1.0}, {"id": "u_mo", "priority": 2.0}]
    assert record["mapPreferenceMode"] == "PREFERRED" and record["selectedMaps"] == ["reef"]
    assert record["message"] == MESSAGE
    acceptance = str(record["id"])
    # The form says it was sent (the creator's bot may already have answered it).
    until(
        lambda: True
        if re.search(rf"Request {acceptance} sent|declined|approved", one_line(term.screen())) is not None
        else None,
        "the form saying the request was sent",
    )
    return acceptance


@pytest.fixture
def demo_terminal(tmp_path: Path) -> Iterator[tuple[Terminal, dict[str, str]]]:
    term = Terminal(f"lobby-test-{uuid.uuid4().hex[:8]}")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LOBBY_", "TEAMBATTLES_"))},
        "LOBBY_CONFIG_DIR": str(tmp_path / "config"),
        "LOBBY_STATE_DIR": str(tmp_path / "state"),
        "LOBBY_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "TERM": "xterm-256color",
    }
    try:
        yield term, env
    finally:
        term.tmux("kill-server")


def announced(state: Path, other_than: dict[str, object] | None) -> dict[str, object] | None:
    """What the running demo announced (its URL and process), not the previous demo's."""
    try:
        info = json.loads((state / "emulator.json").read_text())
    except (OSError, ValueError):
        return None
    return None if info == other_than or "url" not in info else dict(info)


_commands = itertools.count(1000)


def run_in(term: Terminal, command: str) -> str:
    """Type ``command`` in the other terminal and wait for it to end: its screen then (the
    mark it waits for is printed by the shell, never typed)."""
    number = next(_commands)
    term.type(f"{command}; echo ended-$(( {number} + 1 ))", "cap:other")
    term.keys("Enter", target="cap:other")
    return term.wait_for(f"ended-{number + 1}\n", "cap:other", PATIENCE)


def test_the_whole_captain_flow_in_tmux_at_two_sizes_each_demo_fresh(demo_terminal, tmp_path: Path) -> None:
    """`lobby demo` at 120x40, then a new `lobby demo` at 80x24 with the same directories: each
    time a ticket is accepted for one player and a TeamBattles request is sent, and a second
    terminal acting as the demo captain (as the README says) lists this demo's requests only."""
    term, env = demo_terminal
    _, key, _ = demo_identity()
    python = shlex.quote(sys.executable)
    previous = None
    for number, (width, height) in enumerate(((120, 40), (80, 24))):
        demo = f"stty -ixon; exec {python} -m lobby demo"
        size = ["-x", str(width), "-y", str(height)]
        if number == 0:
            subprocess.run(
                ["tmux", "-L", term.socket, "new-session", "-d", "-s", "cap", "-c", str(tmp_path), *size, demo],
                env=env,
                cwd=tmp_path,
                check=True,
            )
            term.tmux("set-option", "-w", "-t", "cap:0", "remain-on-exit", "on")  # to start it again
            # The other terminal: a plain shell in a second window.
            term.tmux("new-window", "-d", "-t", "cap", "-n", "other", "-c", str(tmp_path), "bash --norc --noprofile")
        else:  # the same directories, a new `lobby demo`, a smaller terminal
            for window in ("cap:0", "cap:other"):
                term.tmux("resize-window", "-t", window, *size)
            term.tmux("respawn-pane", "-k", "-t", "cap:0", demo)
        info = until(lambda seen=previous: announced(tmp_path / "state", seen), "the demo's emulator announced")
        previous = info
        recorded = Recorded(str(info["url"]))
        try:
            # A new demo: nothing of the previous one, here or in the other terminal.
            screen = term.wait_for_all("cap:0", "FlexMatch live", "TeamBattles live")
            assert "Open matches (" in screen and "My requests (" not in screen, screen
            term.type(f"export TEAMBATTLES_API_KEY={key} {AS_THE_CAPTAIN}; clear", "cap:other")
            term.keys("Enter", target="cap:other")
            assert "No match requests sent yet." in run_in(term, f"{python} -m lobby my-requests")
            if number == 0:  # the README's example, as printed there
                assert "tbm_tide_skirmish" in run_in(term, f"{python} -m lobby matches")

            accept_for_one_player(term, recorded)
            acceptance = send_a_request(term, recorded, tmp_path / "state")

            # The other terminal sees the request the demo just sent, and nothing else.
            run_in(term, f"{python} -m lobby my-requests --json > requests-{number}.json")
            listed = json.loads((tmp_path / f"requests-{number}.json").read_text())
            assert [(r["acceptanceId"], r["matchId"]) for r in listed] == [(acceptance, "tbm_tide_skirmish")]
            assert listed[0]["payload"]["message"] == MESSAGE

            term.keys("Escape", target="cap:0")
            shown = term.wait_for("My requests (", "cap:0")
            assert any("Tidebreakers" in row for row in section_rows(shown, "My requests (")), shown
            term.keys("C-q", target="cap:0")
            until(lambda: True if term.tmux("display", "-p", "-t", "cap:0", "#{pane_dead}").strip() == "1" else None, "the demo quitting")
        finally:
            recorded.stop()

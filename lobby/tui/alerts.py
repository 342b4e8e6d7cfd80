"""Nothing missed: how the console announces a new offer, a decision on a request, and the
time running out.

Every alert is a toast (words, never colour alone); then, unless the settings ask for visual
alerts only, the bell rings and, while the terminal window is not focused (Textual's AppBlur /
AppFocus), a desktop notification goes out as a terminal notification escape sequence where the
terminal is known to support one (OSC 9 or OSC 777; wrapped for tmux's passthrough inside tmux).
What goes into a sequence is stripped of every control character first: a title from the
network can neither end the sequence nor start another.

Reminders come at the configured lead times before each awaiting offer's deadline, read from
the offer's own clock (the service's time as its backend measures it): a reminder fires when
the time left crosses its lead, once, so an offer that arrives with less time left than a lead
is not reminded of that lead, and an offer of an earlier session is not reminded of before a
backend confirms it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from lobby.core.clock import remaining
from lobby.tui import timefmt
from lobby.tui.safe import brief, clean

if TYPE_CHECKING:
    from lobby.config import Settings
    from lobby.tui.store import Entry, Key

#: Cells of a desktop notification's title and body, at most.
TITLE_CELLS = 60
BODY_CELLS = 200


class Desktop(StrEnum):
    """A terminal notification escape sequence."""

    OSC9 = "osc9"
    OSC777 = "osc777"


def detect(env: Mapping[str, str]) -> Desktop | None:
    """The notification sequence the terminal in ``env`` is known to show; None when unknown
    (nothing is sent to a terminal that might print it)."""
    program = env.get("TERM_PROGRAM", "")
    term = env.get("TERM", "")
    if program == "iTerm.app" or env.get("LC_TERMINAL") == "iTerm2":
        return Desktop.OSC9
    if program == "WezTerm" or "WEZTERM_PANE" in env:
        return Desktop.OSC9
    if term == "xterm-kitty" or "KITTY_WINDOW_ID" in env:
        return Desktop.OSC9
    if program == "ghostty" or "GHOSTTY_RESOURCES_DIR" in env:
        return Desktop.OSC777
    if term.startswith(("foot", "rxvt-unicode")):
        return Desktop.OSC777
    return None


def chosen(setting: str, env: Mapping[str, str]) -> Desktop | None:
    """The sequence the ``desktop_notifications`` setting asks for in ``env``."""
    if setting == "off":
        return None
    if setting == "auto":
        return detect(env)
    return Desktop(setting)


def _inert(text: str, cells: int) -> str:
    """One line without a single control character (no ESC, BEL, ST, newline or tab)."""
    line = " ".join(clean(text).split())
    return "".join(ch for ch in brief(line, cells) if ch.isprintable())


def sequence(kind: Desktop, title: str, body: str, *, tmux: bool = False) -> str:
    """The escape sequence that asks the terminal for a desktop notification."""
    title, body = _inert(title, TITLE_CELLS), _inert(body, BODY_CELLS)
    if kind is Desktop.OSC777:
        # Fields are separated by ";": the title must hold none.
        raw = f"\x1b]777;notify;{title.replace(';', ',')};{body}\x1b\\"
    else:
        # OSC 9 takes one text; a leading digit and ";" would read as a ConEmu sub-command.
        raw = f"\x1b]9;{title}: {body}\x07"
    if tmux:
        return "\x1bPtmux;" + raw.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return raw


@dataclass(frozen=True, slots=True)
class Alert:
    """One announcement: a toast's title and words."""

    title: str
    text: str


class Alerts:
    """The console's announcements. ``notify`` shows a toast, ``bell`` rings, ``write`` hands
    an escape sequence to the terminal, ``focused`` says whether the terminal window has the
    focus."""

    def __init__(
        self,
        *,
        notify: Callable[[Alert], None],
        bell: Callable[[], None],
        write: Callable[[str], None],
        focused: Callable[[], bool],
        settings: Settings | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        from lobby.config import DEFAULT_REMINDERS

        env = os.environ if env is None else env
        self._notify, self._bell, self._write, self._focused = notify, bell, write, focused
        #: Toasts only: no bell, no escape sequence.
        self.visual_only = settings.visual_only if settings is not None else False
        self.bell_on = settings.bell if settings is not None else True
        #: Lead times of the reminders, in seconds before the deadline, latest last.
        self.leads: Sequence[float] = tuple(settings.reminders) if settings is not None else DEFAULT_REMINDERS
        self.desktop = chosen(settings.desktop_notifications if settings is not None else "auto", env)
        self._tmux = "TMUX" in env
        #: Seconds left of each awaiting offer at the last look.
        self._left: dict[Key, float] = {}

    def announce(self, alert: Alert) -> None:
        """A toast; the bell and, when the window is not focused, a desktop notification."""
        self._notify(alert)
        if self.visual_only:
            return
        if self.bell_on:
            self._bell()
        if self.desktop is not None and not self._focused():
            self._write(sequence(self.desktop, alert.title, alert.text, tmux=self._tmux))

    def remind(self, awaiting: Iterable[Entry]) -> None:
        """Announce each awaiting offer whose time left has crossed a lead time since the last
        look (the shortest lead crossed, once)."""
        seen: dict[Key, float] = {}
        for entry in awaiting:
            deadline = entry.offer.deadline
            if deadline is None or entry.refreshing:
                continue  # no deadline, or an offer of an earlier session no backend confirmed yet
            left = remaining(deadline, entry.clock).total_seconds()
            seen[entry.key] = left
            before = self._left.get(entry.key)
            if before is None or left <= 0:
                continue
            crossed = [lead for lead in self.leads if before > lead >= left]
            if crossed:
                self.announce(reminder(entry, left))
        self._left = seen


def reminder(entry: Entry, left: float) -> Alert:
    """``"Reminder: 0:30 left"``, and what to answer."""
    from datetime import timedelta

    words = timefmt.countdown(timedelta(seconds=left))
    return Alert(f"Reminder: {words} left", f"{brief(entry.offer.title)}: {words} left to answer.")

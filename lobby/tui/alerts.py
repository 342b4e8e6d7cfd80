"""Nothing missed: how the console announces a new offer, a decision on a request, and the
time running out.

Every alert is a toast (words, never colour alone); then, unless the settings ask for visual
alerts only, the bell rings and, while the terminal window is not focused (Textual's AppBlur /
AppFocus), a desktop notification goes out as a terminal notification escape sequence where the
terminal is known to support one (OSC 9 or OSC 777; wrapped for tmux's passthrough inside tmux).
Under `lobby web --captain` (Textual's web driver) the page in the browser is the terminal: the
notification goes to it as a meta packet (:func:`page_meta`) that the server hands to the page's
script, which shows it with the Web Notifications API. What a notification says is one
:class:`Notice`, stripped of every control character first: a title from the network can
neither end a sequence nor start another, and the page receives it as data, never as markup.

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
from lobby.core.offers import DEFAULT_REMINDERS
from lobby.tui import timefmt
from lobby.tui.safe import brief, clean

if TYPE_CHECKING:
    from lobby.config import DesktopNotifications
    from lobby.config_schema import Settings
    from lobby.tui.store import Entry, Key

#: Cells of a desktop notification's title and body, at most.
TITLE_CELLS = 60
BODY_CELLS = 200


class Desktop(StrEnum):
    """Where a desktop notification goes: a terminal notification escape sequence, or the
    browser page of `lobby web`."""

    OSC9 = "osc9"
    OSC777 = "osc777"
    BROWSER = "browser"


#: The type of the web driver's meta packet that carries a notification to the page of
#: `lobby web` (its server reads it: :mod:`lobby.cli.web`).
PAGE_META = "lobby-notify"


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


def chosen(setting: str, env: Mapping[str, str], *, web: bool = False) -> Desktop | None:
    """Where the ``desktop_notifications`` setting sends a notification in ``env``; ``web``:
    the console runs in a browser's page, which shows the notification itself unless the
    setting is "off" (the page reads no escape sequence)."""
    if setting == "off":
        return None
    if web:
        return Desktop.BROWSER
    if setting == "auto":
        return detect(env)
    return Desktop(setting)


def _inert(text: str, cells: int) -> str:
    """One line without a single control character (no ESC, BEL, ST, newline or tab)."""
    line = " ".join(clean(text).split())
    return "".join(ch for ch in brief(line, cells) if ch.isprintable())


@dataclass(frozen=True, slots=True)
class Notice:
    """What a desktop notification says: a title and a body, each one line of at most
    TITLE_CELLS / BODY_CELLS cells without a single control character."""

    title: str
    body: str

    @classmethod
    def of(cls, title: str, body: str) -> Notice:
        return cls(_inert(title, TITLE_CELLS), _inert(body, BODY_CELLS))


def page_meta(notice: Notice) -> dict[str, object]:
    """The web driver's meta packet that asks the page of `lobby web` for the notification."""
    return {"type": PAGE_META, "title": notice.title, "body": notice.body}


def sequence(kind: Desktop, title: str, body: str, *, tmux: bool = False) -> str:
    """The escape sequence that asks the terminal for a desktop notification."""
    notice = Notice.of(title, body)
    title, body = notice.title, notice.body
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
    an escape sequence to the terminal, ``focused`` says whether the terminal window (or the
    browser's page) has the focus, ``web`` whether the console runs in a browser's page, and
    ``page`` hands that page a meta packet."""

    def __init__(
        self,
        *,
        notify: Callable[[Alert], None],
        bell: Callable[[], None],
        write: Callable[[str], None],
        focused: Callable[[], bool],
        settings: Settings | None = None,
        env: Mapping[str, str] | None = None,
        web: Callable[[], bool] = lambda: False,
        page: Callable[[dict[str, object]], None] = lambda meta: None,
    ) -> None:
        env = os.environ if env is None else env
        self._notify, self._bell, self._write, self._focused = notify, bell, write, focused
        #: Toasts only: no bell, no escape sequence.
        self.visual_only = False
        self.bell_on = True
        #: Lead times of the reminders, in seconds before the deadline, latest last.
        self.leads: Sequence[float] = DEFAULT_REMINDERS
        self._setting: DesktopNotifications = "auto"
        if settings is not None:
            self.use(settings)
        self._env = env
        self._web, self._page = web, page
        self._tmux = "TMUX" in env
        #: Seconds left of each awaiting offer at the last look.
        self._left: dict[Key, float] = {}

    def use(self, settings: Settings) -> None:
        """Announce as ``settings`` say (the console's arrive after its first frame)."""
        self.visual_only = settings.visual_only
        self.bell_on = settings.bell
        self.leads = tuple(settings.reminders)
        self._setting = settings.desktop_notifications

    def announce(self, alert: Alert) -> None:
        """A toast; the bell and, when the window is not focused, a desktop notification."""
        self._notify(alert)
        if self.visual_only:
            return
        if self.bell_on:
            self._bell()
        if self._focused():
            return
        desktop = self.desktop
        if desktop is Desktop.BROWSER:
            self._page(page_meta(Notice.of(alert.title, alert.text)))
        elif desktop is not None:
            self._write(sequence(desktop, alert.title, alert.text, tmux=self._tmux))

    @property
    def desktop(self) -> Desktop | None:
        """Where a desktop notification goes now (the driver, hence ``web``, is known once the
        console runs)."""
        return chosen(self._setting, self._env, web=self._web())

    def remind(self, awaiting: Iterable[Entry]) -> None:
        """Announce each awaiting offer whose time left has crossed a lead time since the last
        look (the shortest lead crossed, once)."""
        seen: dict[Key, float] = {}
        for entry in awaiting:
            deadline = entry.offer.deadline
            if deadline is None or entry.unconfirmed:
                continue  # no deadline, or an offer of an earlier session no listing confirmed yet
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

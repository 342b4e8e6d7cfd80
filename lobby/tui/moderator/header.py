"""The moderator's header: the feed's state, what is shown, and live figures over the window.

Three lines::

    ● live · 9,812 of 10,000 rows · window 5 min             queue ▁▂▃▄▅▆▇█▇▆ 1,204
    searching 1,204  accepting 310  placing 12  · 5 min: completed 802  cancelled 41
    accepted 87% of 120 · rejected 9 · timed out 7 · to match p50 0:14 p95 0:52
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from lobby.moderation.rows import STATUS_ORDER
from lobby.moderation.stats import Snapshot
from lobby.tui.moderator.format import HEADER_WORDS, count, duration, sparkline
from lobby.tui.moderator.table import text_style
from lobby.tui.safe import clean


@dataclass
class HeaderFacts:
    """Everything the header shows, given by the screen."""

    state: str = "connecting"
    #: The feed's own words when it failed.
    problem: str | None = None
    source: str = ""
    shown: int = 0
    total: int = 0
    snapshot: Snapshot | None = None
    hidden: frozenset[str] = field(default_factory=frozenset)
    resume_after: str | None = None
    finished_shown: bool = False
    #: Messages the feed could not read (or the board apply).
    rejected: int = 0
    #: The one region shown, or None for every region.
    region: str | None = None


def _minutes(seconds: float) -> str:
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds)} s"


class ModerationHeader(Widget):
    """Feed state, row counts, figures and the queue sparkline."""

    COMPONENT_CLASSES = {
        "moderation-header--good",
        "moderation-header--warn",
        "moderation-header--bad",
        "moderation-header--dim",
        "moderation-header--strong",
        "moderation-header--spark",
    }

    DEFAULT_CSS = """
    ModerationHeader > .moderation-header--good { color: $success; text-style: bold; }
    ModerationHeader > .moderation-header--warn { color: $warning; text-style: bold; }
    ModerationHeader > .moderation-header--bad { color: $error; text-style: bold; }
    ModerationHeader > .moderation-header--dim { color: $foreground 60%; }
    ModerationHeader > .moderation-header--strong { text-style: bold; }
    ModerationHeader > .moderation-header--spark { color: $primary; }
    ModerationHeader {
        height: 3;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    ModerationHeader.-reconnecting { background: $warning 20%; }
    ModerationHeader.-failed { background: $error 25%; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.facts = HeaderFacts()
        self._styles: dict[str, Style] = {}

    def show(self, facts: HeaderFacts) -> None:
        self.facts = facts
        self.set_class(facts.state == "reconnecting", "-reconnecting")
        self.set_class(facts.state == "failed", "-failed")
        self.refresh()

    def _s(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = text_style(self, f"moderation-header--{name}", False)
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()

    def render(self) -> Text:
        width = max(20, self.content_region.width or self.size.width)
        facts = self.facts
        snap = facts.snapshot
        lines = [self._state_line(width), self._status_line(snap), self._figures_line(snap, width)]
        out = Text(no_wrap=True, overflow="ellipsis")
        for i, line in enumerate(lines):
            if i:
                out.append("\n")
            line.truncate(width, overflow="ellipsis")
            out.append_text(line)
        return out

    def _state_line(self, width: int) -> Text:
        facts = self.facts
        line = Text()
        if facts.state == "live":
            line.append("● live", self._s("good"))
        elif facts.state == "reconnecting":
            line.append("◌ reconnecting", self._s("warn"))
            if facts.resume_after:
                line.append(f" · resuming after event {clean(facts.resume_after)}", self._s("warn"))
        elif facts.state == "failed":
            line.append("✕ feed failed", self._s("bad"))
            if facts.problem:
                line.append(": " + clean(facts.problem), self._s("bad"))
        elif facts.state == "closed":
            line.append("■ feed closed", self._s("strong"))
        else:
            line.append("… connecting", self._s("strong"))
        if facts.source and facts.state != "failed" and width >= 100:
            line.append(" · ", self._s("dim"))
            line.append(clean(facts.source), self._s("dim"))
        line.append(" · ", self._s("dim"))
        line.append(f"{count(facts.shown)} of {count(facts.total)} rows")
        if facts.region is not None:
            line.append(" in ", self._s("dim"))
            line.append(clean(facts.region), self._s("strong"))
            line.append(" (g)", self._s("dim"))
        if facts.finished_shown:
            line.append(" (finished shown)", self._s("dim"))
        if facts.rejected:
            line.append(" · ", self._s("dim"))
            line.append(f"{count(facts.rejected)} rejected (x)", self._s("warn"))
        if snap := facts.snapshot:
            line.append(f" · window {_minutes(snap.window)}", self._s("dim"))
            depth = snap.queue[-1] if snap.queue else 0
            tail = f" {count(depth)}"
            room = width - line.cell_len - len("  queue ") - len(tail)
            spark = sparkline(snap.queue, min(30, room))
            if room >= 6:
                pad = width - line.cell_len - len("queue ") - len(spark) - len(tail)
                line.append(" " * max(2, pad))
                line.append("queue ", self._s("dim"))
                line.append(spark, self._s("spark"))
                line.append(tail, self._s("strong"))
        return line

    def _status_line(self, snap: Snapshot | None) -> Text:
        line = Text()
        if snap is None:
            return line
        first = True
        for status in STATUS_ORDER:
            n = snap.live.get(status, 0)
            if not n:
                continue
            if not first:
                line.append("  ")
            first = False
            hidden = status in self.facts.hidden
            line.append(HEADER_WORDS.get(status, status.lower()), self._s("dim") if hidden else Style())
            line.append(f" {count(n)}", self._s("dim") if hidden else self._s("strong"))
        if first:
            line.append("nothing live", self._s("dim"))
        finished = [(s, snap.finished[s]) for s in STATUS_ORDER if snap.finished.get(s)]
        if finished:
            line.append(f"  · last {_minutes(snap.window)}: ", self._s("dim"))
            for i, (status, n) in enumerate(finished):
                if i:
                    line.append("  ")
                hidden = status in self.facts.hidden
                line.append(HEADER_WORDS.get(status, status.lower()), self._s("dim") if hidden else Style())
                line.append(f" {count(n)}", self._s("dim") if hidden else self._s("strong"))
        return line

    def _figures_line(self, snap: Snapshot | None, width: int) -> Text:
        line = Text()
        if snap is None:
            return line
        rate = snap.acceptance_rate
        line.append("accepted ")
        line.append(f"{rate:.0%}" if rate is not None else "-", self._s("strong"))
        line.append(f" of {count(snap.rounds)}", self._s("dim"))
        line.append(" · rejected ")
        line.append(count(snap.rejected), self._s("bad") if snap.rejected else self._s("strong"))
        line.append(" · timed out ")
        line.append(count(snap.timed_out), self._s("warn") if snap.timed_out else self._s("strong"))
        line.append(" · to match p50 ")
        line.append(duration(snap.median_to_match), self._s("strong"))
        line.append(" p95 ")
        line.append(duration(snap.p95_to_match), self._s("strong"))
        return line

"""Answering a FlexMatch ticket: who you answer for, how the whole match stands, the time left."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Header, Label, ProgressBar, SelectionList, Static
from textual.widgets.selection_list import Selection

from lobby.core.backend import OfferBackend
from lobby.core.offers import Offer
from lobby.tui.safe import BRIEF, brief, clean, plain
from lobby.tui.screens.answer import AnswerScreen
from lobby.tui.store import REQUIRES_ACCEPTANCE, Applied, Entry, Key
from lobby.tui.widgets.big_countdown import BigCountdown
from lobby.tui.widgets.tables import PickList
from lobby.tui.widgets.keys_footer import KeysFooter

#: Offer facts that describe where to connect once a match is placed, in display order.
CONNECTION_FACTS = (
    ("ip_address", "address"),
    ("dns_name", "host"),
    ("port", "port"),
    ("game_session_arn", "game session"),
    ("player_sessions", "player sessions"),
    ("connection", "connect to"),
)
#: How many cells of one fact (a configuration, an address...), of the title, and of a
#: sentence from the server the screen shows at most: at 80x24 the buttons stay on screen.
FACT = 80
#: A fact under the title (ticket, configuration, match): the line of them stays short.
HEAD_FACT = 40
TITLE = 120
OUTCOME = 160
#: Facts shown under the title, when present.
HEAD_FACTS = (("configuration", "configuration"), ("match", "match"), ("deadline", "deadline"))


#: How a closed ticket's status reads, and its colour.
CLOSED_WORDS = {
    "PLACING": ("Placing.", "-good"),
    "SEARCHING": ("Back to searching.", "-warn"),
    "QUEUED": ("Back to searching.", "-warn"),
    "CANCELLED": ("Cancelled.", "-bad"),
    "TIMED_OUT": ("Timed out.", "-bad"),
    "FAILED": ("Failed.", "-bad"),
}


def connection_details(offer: Offer) -> Text:
    text = Text()
    for name, label in CONNECTION_FACTS:
        value = offer.facts.get(name)
        if value:
            if text:
                text.append(" · ")
            text.append(f"{label} ")
            text.append_text(plain(value, "bold", limit=FACT))
    return text


def outcome_words(
    entry: Entry, *, expired: bool, error: str | None, keys_hint: str
) -> tuple[Text, str]:
    """What happened to the ticket, in words, and a class for its colour."""
    offer = entry.offer
    if entry.closed is not None:
        closed = entry.closed
        text = Text()
        if closed.status == "COMPLETED":
            text.append("Placed. ", style="bold")
            text.append_text(plain(closed.outcome, limit=OUTCOME))
            details = connection_details(offer)
            if details:
                text.append("\n")
                text.append_text(details)
            return text, "-good"
        heading, tone = CLOSED_WORDS.get(closed.status, (closed.status.replace("_", " ").capitalize() + ".", "-bad"))
        text.append(f"{heading} ", style="bold")
        text.append_text(plain(closed.outcome, limit=OUTCOME))
        return text, tone
    if error is not None:
        text = Text("The service refused the answer: ", style="bold")
        text.append_text(plain(error, limit=OUTCOME))
        return text, "-bad"
    status = offer.status
    if status == "COMPLETED":
        text = Text("Placed. ", style="bold")
        details = connection_details(offer)
        text.append_text(details if details else Text("The match is ready."))
        return text, "-good"
    if status == "PLACING":
        return Text("Everyone accepted. The match is being placed…", style="bold"), "-good"
    if status == "SEARCHING" and entry.answered:
        return (
            Text("Back to searching: the match fell through and your ticket is searching again."),
            "-warn",
        )
    if status in ("CANCELLED", "TIMED_OUT", "FAILED"):
        reason = offer.facts.get("reason") or offer.facts.get("status_reason") or ""
        text = Text(f"{status.replace('_', ' ').capitalize()}. ", style="bold")
        text.append_text(plain(reason or "The ticket is no longer matchmaking.", limit=OUTCOME))
        return text, "-bad"
    if status == REQUIRES_ACCEPTANCE and entry.player_answers and not entry.answered and not expired:
        text = Text()
        text.append_text(plain(entry.answer_note or "Answer sent.", limit=OUTCOME))
        done = ", ".join(f"{p} {v}" for p, v in entry.player_answers.items())
        text.append(" ")
        text.append_text(plain(f"Answered: {done}.", limit=OUTCOME))
        text.append(" Still to answer: ")
        text.append_text(plain(", ".join(entry.unanswered_players), "bold", limit=BRIEF))
        text.append(f" — {keys_hint}.")
        return text, "-info"
    if status == REQUIRES_ACCEPTANCE and entry.answered:
        text = Text()
        text.append_text(plain(entry.answer_note or "Answer sent.", limit=OUTCOME))
        if offer.progress is not None:
            accepted, total = offer.progress
            text.append(f" Waiting for the others: {accepted}/{total} accepted.")
        return text, "-info"
    if expired:
        return Text("Expired: the time to answer is over.", style="bold"), "-bad"
    if status != REQUIRES_ACCEPTANCE:
        return plain(f"The ticket is {status.replace('_', ' ').lower()}.", limit=FACT), "-info"
    return Text(f"Choose who you answer for, then {keys_hint}."), "-info"


class TicketScreen(AnswerScreen):
    """The answer screen of one FlexMatch ticket."""

    BINDINGS = [
        Binding("a", "accept", "Accept", id="lobby.ticket.accept"),
        Binding("r", "reject", "Reject", id="lobby.ticket.reject"),
        Binding("escape", "back", "Back", id="lobby.back"),
    ]

    def __init__(self, key: Key) -> None:
        super().__init__(key)
        self._ready = False
        self._shown_answers: tuple[tuple[str, str], ...] = ()

    def compose(self) -> ComposeResult:
        entry = self.entry
        assert entry is not None
        offer = entry.offer
        yield Header()
        with Vertical(id="ticket"):
            yield Static(self._head(offer), id="ticket-head")
            with Horizontal(id="ticket-body"):
                with Vertical(id="ticket-left"):
                    yield Label("Answer for", classes="heading")
                    yield PickList(*self._selections(entry), id="players")
                    yield Label("Whole match", classes="heading")
                    yield Static(id="match-progress-text")
                    yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="match-progress")
                yield BigCountdown(offer.deadline, entry.clock, entry.window, id="countdown")
            yield Static(id="outcome")
            with Horizontal(id="actions"):
                yield Button(f"Accept ({self._key('accept')})", id="accept", variant="success")
                yield Button(f"Reject ({self._key('reject')})", id="reject", variant="error")
        yield KeysFooter()

    def _key(self, action: str) -> str:
        """The key of ``lobby.ticket.<action>`` now (a keymap may have moved it)."""
        return self.lobby.key_for(TicketScreen, f"lobby.ticket.{action}")

    @staticmethod
    def _selections(entry: Entry) -> list[Selection[str]]:
        """One choice per player: a player already answered for shows the answer and is no
        longer a choice; the others stay chosen."""
        choices = []
        for player in entry.offer.players:
            verdict = entry.player_answers.get(player)
            if verdict is None:
                choices.append(Selection(plain(player), player, True))
            else:
                label = plain(player)
                label.append(f"  {verdict}", style="bold green" if verdict == "accepted" else "bold red")
                choices.append(Selection(label, player, False, disabled=True))
        return choices

    def _sync_players(self, entry: Entry) -> None:
        """The players' list follows who was answered for (a fresh match resets it)."""
        answered = tuple(sorted(entry.player_answers.items()))
        if answered == self._shown_answers:
            return
        self._shown_answers = answered
        players = self.query_one("#players", SelectionList)
        players.clear_options()
        players.add_options(self._selections(entry))

    def _head(self, offer: Offer) -> Text:
        text = Text()
        text.append("FlexMatch ticket  ", style="bold")
        text.append_text(plain(offer.title, "bold", limit=TITLE))
        facts = [(label, offer.facts[name]) for name, label in HEAD_FACTS if offer.facts.get(name)]
        facts.insert(0, ("ticket", offer.id))
        line = Text("\n", style="dim")
        for i, (label, value) in enumerate(facts):
            if i:
                line.append(" · ", style="dim")
            line.append(f"{label} ", style="dim")
            line.append_text(plain(value, limit=HEAD_FACT))
        text.append_text(line)
        return text

    def on_mount(self) -> None:
        app = self.lobby
        app.offers_changed.subscribe(self, self._changed)
        app.ticked.subscribe(self, lambda _: self._refresh_state())
        self._ready = True
        self._refresh_state()
        self.query_one("#players", SelectionList).focus()

    def _changed(self, applied: list[Applied]) -> None:
        if not applied or any(a.key == self.key for a in applied):
            self._refresh_state()

    # --- state ---------------------------------------------------------------------------------

    @property
    def expired(self) -> bool:
        entry = self.entry
        return entry is None or entry.offer.expired(entry.clock)

    def can_answer(self) -> bool:
        entry = self.entry
        return (
            entry is not None
            and entry.closed is None
            and entry.offer.status == REQUIRES_ACCEPTANCE
            and not entry.answered
            and bool(entry.unanswered_players)
            and not self.expired
            and not self.busy
        )

    def watch_busy(self) -> None:
        self._refresh_state()

    def watch_error(self) -> None:
        self._refresh_state()

    def _refresh_state(self) -> None:
        entry = self.entry
        if entry is None or not self._ready:
            return
        offer = entry.offer
        countdown = self.query_one(BigCountdown)
        if entry.closed is not None:
            countdown.caption = "answering is over"
            if countdown.deadline is not None:
                countdown.set_deadline(None, None)
        elif entry.answered:
            countdown.caption = "until the match is decided"
        else:
            countdown.caption = "left to answer"
        if entry.closed is None and countdown.deadline != offer.deadline:
            countdown.set_deadline(offer.deadline, entry.window)
        countdown.tick()
        progress_text = self.query_one("#match-progress-text", Static)
        bar = self.query_one("#match-progress", ProgressBar)
        if offer.progress is not None:
            accepted, total = offer.progress
            progress_text.update(Text.assemble((f"{accepted}/{total}", "bold"), " players accepted"))
            bar.update(total=max(total, 1), progress=accepted)
        else:
            progress_text.update(Text("waiting for the first answers", style="dim"))
            bar.update(total=1, progress=0)
        self._sync_players(entry)
        hint = f"Accept ({self._key('accept')}) or Reject ({self._key('reject')})"
        words, tone = outcome_words(entry, expired=self.expired, error=self.error, keys_hint=hint)
        outcome = self.query_one("#outcome", Static)
        if self.busy:
            words, tone = Text("Sending your answer…", style="italic"), "-info"
        outcome.update(words)
        for cls in ("-good", "-bad", "-warn", "-info"):
            outcome.set_class(cls == tone, cls)
        allowed = self.can_answer()
        self.query_one("#accept", Button).disabled = not allowed
        self.query_one("#reject", Button).disabled = not allowed
        self.query_one("#players", SelectionList).disabled = not allowed
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("accept", "reject"):
            return True if self.can_answer() else None
        return True

    # --- answering -----------------------------------------------------------------------------

    def _chosen(self) -> list[str]:
        entry = self.entry
        open_ = set(entry.unanswered_players) if entry is not None else set()
        return [p for p in self.query_one("#players", SelectionList).selected if p in open_]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "accept":
            self.action_accept()
        elif event.button.id == "reject":
            self.action_reject()

    def action_accept(self) -> None:
        if not self.can_answer():
            return
        players = self._chosen()
        if not players:
            self.notify("Choose at least one player to answer for.", severity="warning")
            return
        self.send(True, players)

    def action_reject(self) -> None:
        if not self.can_answer():
            return
        players = self._chosen()
        if not players:
            self.notify("Choose at least one player to answer for.", severity="warning")
            return
        from lobby.tui.screens.confirm import ConfirmScreen

        question = Text("Reject this match for ")
        question.append_text(plain(", ".join(players), "bold", limit=BRIEF))
        question.append(
            "?\n\nA rejection drops the match for everyone; a ticket with a player who "
            "rejected is cancelled and leaves matchmaking."
        )

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            if self.can_answer():
                self.send(False, players)
            else:
                self.notify("Not sent: this ticket can no longer be answered.", severity="warning")

        entry = self.entry
        assert entry is not None  # can_answer()
        confirm = ConfirmScreen(
            "Reject the match?",
            question,
            yes="Reject",
            no="Keep",
            deadline=entry.offer.deadline,
            clock=entry.clock,
            expired="The time to answer is over: the match was not rejected.",
        )
        self.app.push_screen(confirm, confirmed)

    def send(self, accept: bool, players: list[str]) -> None:
        """Accept or reject the match for ``players``, in the answer worker."""
        answer = tuple(players)

        async def send(backend: OfferBackend, offer_id: str) -> str:
            if accept:
                return await backend.accept(offer_id, answer)
            return await backend.reject(offer_id, answer)

        def sent(note: str) -> None:
            verdict = "accepted" if accept else "rejected"
            self.lobby.answered_for(self.key, players, verdict, clean(note) if note else None)
            verb = "Accepted" if accept else "Rejected"
            self.notify(f"{verb} for {brief(', '.join(players))}.", markup=False)

        self.answer(send, refused="Answer not recorded", sent=sent)

    def action_back(self) -> None:
        self.dismiss(None)

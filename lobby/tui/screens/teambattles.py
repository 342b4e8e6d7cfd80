"""Accepting a TeamBattles match (a request to the creator) or a direct challenge.

The form keeps every choice across failures; the backend's acceptance desk explains each
violation as it happens (the draft is checked once more, by the backend, when it is sent);
submit runs in a worker and shows that it is busy; at the scheduled start the offer expires and
submit is disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Header, Label, Select, Static

from lobby.core.answers import AcceptanceDraft, AcceptanceFacts, Violation
from lobby.core.errors import BackendError, Unavailable
from lobby.core.offers import Offer, OfferKind
from lobby.teambattles.vocab import MESSAGE_MAX_LENGTH
from lobby.tui.drafts import FormDraft
from lobby.tui.forms import AcceptanceForm
from lobby.tui.screens.answer import AnswerScreen
from lobby.tui.safe import BRIEF, MESSAGE, brief, clean, plain
from lobby.tui.store import Applied, Entry, Key
from lobby.tui.widgets.countdown import Countdown
from lobby.tui.widgets.disputed_rules import DisputedRules
from lobby.tui.widgets.form_input import FormInput
from lobby.tui.widgets.map_picker import MapPicker
from lobby.tui.widgets.message_field import MessageField
from lobby.tui.widgets.roster_editor import RosterEditor
from lobby.tui.widgets.keys_footer import KeysFooter

if TYPE_CHECKING:
    pass

#: How many cells of one fact (a game, a region...) the heading shows at most.
FACT = 60
#: How many cells of the title, and of the line of facts, the heading shows at most.
HEAD = 120


def _facts_line(facts: Mapping[str, str]) -> str:
    """"Skyline Strike · hardpoint · 4v4 · best of 3 · EU · PC · SCRIM" (what is known)."""
    size = facts.get("teamSize")
    parts = [
        facts.get("game"),
        facts.get("mode"),
        f"{size}v{size}" if size else None,
        f"best of {facts['bestOf']}" if facts.get("bestOf") else None,
        facts.get("region"),
        facts.get("platform"),
        facts.get("matchType"),
    ]
    return " · ".join(brief(p, FACT) for p in parts if p)


class TeamBattlesScreen(AnswerScreen):
    """The acceptance form of one open match or challenge."""

    # Team names come from the service: one line each in the team picker, however long.
    DEFAULT_CSS = """
    TeamBattlesScreen SelectOverlay { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    # ctrl+s and ctrl+x act from every field (an input would take ctrl+x for "cut").
    BINDINGS = [
        Binding("ctrl+s", "submit", "Send", priority=True, id="lobby.tb.submit"),
        Binding("ctrl+x", "refuse", "Refuse", priority=True, id="lobby.tb.refuse"),
        Binding("ctrl+n", "discard", "Discard draft", id="lobby.tb.discard"),
        Binding("escape", "back", "Back", id="lobby.back"),
    ]

    def __init__(self, key: Key) -> None:
        super().__init__(key)
        self.form = AcceptanceForm(None)
        self.loaded = False
        self.load_error: str | None = None
        self.sent_note: str | None = None
        self.current: list[Violation] = []
        #: Why the last answer could not be sent (the service was unreachable), or None.
        self.unreachable: str | None = None
        #: The form as first built (before a kept draft was restored): what "unchanged" means.
        self._pristine: FormDraft | None = None
        self._last_state: FormDraft | None = None
        self._focus_before: Widget | None = None
        #: The team whose members the roster editor holds (its choices belong to that team).
        self._roster_team: str | None = None
        #: Team names by id, as the directory gives them (for the read-only view of what was sent).
        self._team_names: dict[str, str] = {}

    @property
    def facts(self) -> dict[str, AcceptanceFacts]:
        """The teams offered, by id."""
        return self.form.teams

    @property
    def is_challenge(self) -> bool:
        return self.key[0] is OfferKind.TEAMBATTLES_CHALLENGE

    # --- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        entry = self.entry
        assert entry is not None
        offer = entry.offer
        yield Header()
        with Vertical(id="tb"):
            with Horizontal(id="tb-head"):
                yield Static(self._head(offer), id="tb-title")
                yield Countdown(offer.deadline, entry.clock, prefix="starts in ", expired_word="started", id="tb-countdown")
            yield Static("Loading your teams and the map pool…", id="tb-loading")
            yield VerticalScroll(id="tb-form")
            yield Static(id="tb-violations")
            with Horizontal(id="tb-actions"):
                send = self.lobby.key_for(TeamBattlesScreen, "lobby.tb.submit")
                label = "Accept challenge" if self.is_challenge else "Send request"
                yield Button(f"{label} ({send})", id="submit", variant="success", compact=True)
                if self.is_challenge:
                    refuse = self.lobby.key_for(TeamBattlesScreen, "lobby.tb.refuse")
                    yield Button(f"Refuse ({refuse})", id="refuse", variant="error", compact=True)
                yield Static(id="tb-status")
        yield KeysFooter()

    def _head(self, offer: Offer) -> Text:
        """The title and the facts, cut so that together they never take the whole screen."""
        text = Text()
        text.append("Challenge  " if self.is_challenge else "Open match  ", style="bold")
        text.append_text(plain(offer.title, "bold", limit=HEAD))
        text.append("\n")
        text.append_text(plain(_facts_line(offer.facts), "dim", limit=HEAD))
        return text

    def on_mount(self) -> None:
        self.lobby.offers_changed.subscribe(self, self._changed)
        self.lobby.ticked.subscribe(self, lambda _: self._validate())
        entry = self.entry
        if entry is not None and entry.answered:
            self._show_sent(entry)
        else:
            self.load_facts()

    def _show_sent(self, entry: Entry) -> None:
        """An answered offer opens read-only, with what was sent (when this console sent it)."""
        self.sent_note = entry.status_words if entry.request is not None else (entry.answer_note or "Sent.")
        self.query_one("#tb-loading", Static).display = False
        self.query_one("#tb-form", VerticalScroll).mount(Static(self._sent_words(entry), id="tb-sent"))
        self._show()
        self.name_teams()

    @work(exclusive=True, group="facts")
    async def name_teams(self) -> None:
        """Learn the names of the teams that could answer (the service's directory, cached), so
        the read-only view names the team that was sent rather than its id."""
        entry = self.entry
        backend = self.lobby.backend(entry.backend) if entry is not None else None
        desk = backend.capabilities.acceptance if backend is not None else None
        if desk is None:
            return
        try:
            found = await desk.acceptance_facts(self.key[1])
        except BackendError:
            return  # the ids stay
        self._team_names = {f.team.id: f.team.label() for f in found}
        entry = self.entry
        if entry is not None and self.query("#tb-sent"):
            self.query_one("#tb-sent", Static).update(self._sent_words(entry))

    def _sent_words(self, entry: Entry) -> Text:
        sent = self.lobby.drafts.what_was_sent(self.key)
        text = Text("Sent — read-only.\n", style="bold")
        if sent is None:
            text.append("What was sent is not known here (sent from another console or session).\n", style="dim")
            if entry.request is not None and entry.request.team_id:
                text.append("Team ")
                text.append_text(plain(self._team_name(entry.request.team_id), "bold", limit=FACT))
                text.append("\n")
        else:
            rows = [
                ("Team", self._team_name(sent.team) if sent.team else "-"),
                ("Active", ", ".join(sent.active) or "-"),
                ("Bench", ", ".join(f"{i}. {u}" for i, u in enumerate(sent.bench, start=1)) or "-"),
            ]
            if not self.is_challenge:
                rows += [
                    ("Maps", ", ".join(sent.maps) or "no preference"),
                    ("Message", sent.message or "-"),
                    ("Disputed rules", ", ".join(f"{k} = {v}" for k, v in sent.rules.items()) or "-"),
                ]
            elif sent.reason:
                rows.append(("Reason", sent.reason))
            for label, value in rows:
                text.append(f"{label}: ", style="dim")
                text.append_text(plain(value, limit=MESSAGE))
                text.append("\n")
        text.append("Status: ", style="dim")
        text.append_text(plain(entry.status_words, "bold", limit=MESSAGE))
        return text

    def _team_name(self, team_id: str) -> str:
        """The team's name, or its id until the name is known."""
        known = self.facts.get(team_id)
        return self._team_names.get(team_id) or (known.team.label() if known is not None else team_id)

    def _changed(self, applied: list[Applied]) -> None:
        if not applied or any(a.key == self.key for a in applied):
            self._show()

    @work(exclusive=True, group="facts")
    async def load_facts(self) -> None:
        entry = self.entry
        backend = self.lobby.backend(entry.backend) if entry else None
        loading = self.query_one("#tb-loading", Static)
        self.form = AcceptanceForm(backend.capabilities.acceptance if backend is not None else None)
        try:
            self.load_error = await self.form.load(self.key[1])
        except BackendError as exc:
            self.load_error = brief(exc.message, MESSAGE)
        else:
            if self.load_error is None and not self.facts:
                game = entry.offer.facts.get("game", "this game") if entry else "this game"
                self.load_error = f"You lead no team that can answer this: none of your teams plays {brief(game, FACT)}."
        if self.load_error is not None:
            loading.update(Text(self.load_error, style="bold red"))
            self._validate()
            return
        loading.display = False
        await self._build_form()
        self.loaded = True
        self._validate()

    async def _build_form(self) -> None:
        form = self.query_one("#tb-form", VerticalScroll)
        teams = list(self.facts.values())
        barred = self._barred()
        first = next((f for f in teams if f.team.id not in barred), teams[0])
        match, game = first.match, first.game
        widgets = [
            Label("Team", classes="heading"),
            Select[str](
                [(self._team_prompt(f.team.id, barred), f.team.id) for f in teams],
                value=first.team.id,
                allow_blank=False,
                compact=True,
                id="team",
            ),
            Label(
                f"Roster: exactly {match.team_size} active; others may sit on the bench",
                classes="heading",
                id="roster-heading",
            ),
            RosterEditor(first.team.members, id="roster"),
        ]
        if barred:
            widgets.insert(2, Static(self._barred_words(barred), id="team-barred"))
        if not self.is_challenge:
            pool = game.mode_pools.get(match.game_mode, ())
            widgets += [
                Label("Maps", classes="heading"),
                MapPicker(pool, game.maps, id="maps"),
                Label("Message to the creator", classes="heading"),
                MessageField(MESSAGE_MAX_LENGTH, placeholder="optional", id="message"),
                Label("Disputed rules", classes="heading"),
                DisputedRules(id="rules"),
            ]
        else:
            widgets += [
                Label("Reason, if you refuse", classes="heading"),
                FormInput(placeholder="optional", compact=True, id="reason"),
            ]
        await form.mount_all(widgets)
        self._roster_team = first.team.id
        self._pristine = self.form_state()
        kept = self.lobby.drafts.get(self.key)
        if kept is not None and kept != self._pristine:
            self._restore(kept)
            self.notify("Your draft for this offer is back, as you left it.", markup=False)
        self.query_one("#roster", RosterEditor).focus()

    def _barred(self) -> dict[str, list[Violation]]:
        """The teams that cannot answer whatever their roster (a banned team...), and why, as
        the desk's rules say."""
        now = self._now()
        found = {team_id: self.form.team_problems(team_id, now) for team_id in self.facts}
        return {team_id: problems for team_id, problems in found.items() if problems}

    def _team_prompt(self, team_id: str, barred: Mapping[str, list[Violation]]) -> Text:
        """A team in the picker; one that cannot answer is marked in words, not colour alone."""
        text = plain(self.facts[team_id].team.label())
        if team_id in barred:
            text = Text("✖ ", style="bold red") + text + Text("  (cannot answer)", style="italic")
        return text

    def _now(self) -> datetime:
        entry = self.entry
        return (entry.clock if entry is not None else self.lobby.clock).now()

    def _barred_words(self, barred: Mapping[str, list[Violation]]) -> Text:
        """Why each marked team cannot answer (the picker marks it ✖)."""
        text = Text()
        for problems in barred.values():
            for v in problems:
                if text:
                    text.append("\n")
                text.append("✖ ", style="bold red")
                text.append_text(plain(v.details, limit=MESSAGE))
        return text

    # --- the kept draft ------------------------------------------------------------------------

    def form_state(self) -> FormDraft | None:
        """Everything the form holds now, as plain values (None before it is built)."""
        if not self.query("#roster"):
            return None
        value = self.query_one("#team", Select).value
        roster = self.query_one("#roster", RosterEditor)
        if self.is_challenge:
            return FormDraft(
                team=value if isinstance(value, str) else None,
                active=tuple(roster.active),
                bench=tuple(roster.bench),
                reason=self.query_one("#reason", FormInput).value,
            )
        picker = self.query_one("#maps", MapPicker)
        rules = self.query_one("#rules", DisputedRules)
        rule_name, rule_value = rules.typed
        return FormDraft(
            team=value if isinstance(value, str) else None,
            active=tuple(roster.active),
            bench=tuple(roster.bench),
            map_mode=picker.mode_index,
            maps=picker.maps,
            message=self.query_one("#message", MessageField).value,
            rules=dict(rules.rules),
            rule_name=rule_name,
            rule_value=rule_value,
        )

    def _restore(self, kept: FormDraft) -> None:
        team = kept.team if kept.team in self.facts else None
        if team is not None:
            # Setting the picker posts Select.Changed (for the first team, then this one), handled
            # later: the roster already belongs to ``team``, so those messages leave it as restored.
            self._roster_team = team
            self.query_one("#team", Select).value = team
            members = self.facts[team].team.members
        else:
            members = self.query_one("#roster", RosterEditor).members
        self.query_one("#roster", RosterEditor).set_members(members, active=kept.active, bench=kept.bench)
        if self.is_challenge:
            self.query_one("#reason", FormInput).value = kept.reason
            return
        self.query_one("#maps", MapPicker).restore(kept.map_mode, kept.maps)
        self.query_one("#message", MessageField).value = kept.message
        self.query_one("#rules", DisputedRules).restore(kept.rules, (kept.rule_name, kept.rule_value))

    def _keep_draft(self) -> None:
        """Keep what was typed (unless it was sent): in memory and in the state directory."""
        if not self.loaded or self.sent_note is not None:
            return
        state = self.form_state()
        if state is None:
            return
        if state == self._pristine:
            self.lobby.drafts.discard(self.key)
        else:
            self.lobby.drafts.put(self.key, state)

    def _record_sent(self) -> None:
        state = self.form_state()
        if state is None:
            self.lobby.drafts.discard(self.key)
        else:
            self.lobby.drafts.sent(self.key, state)

    @property
    def changed(self) -> bool:
        """The form holds unsent changes."""
        return self.loaded and self.sent_note is None and self.form_state() != self._pristine

    def action_discard(self) -> None:
        """Throw the draft away (after asking) and start the form afresh."""
        if not self.loaded or not self.changed:
            return
        from lobby.tui.screens.confirm import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.lobby.drafts.discard(self.key)
                self._reset()

        question = Text("Throw away what you chose and typed for this offer?")
        self.app.push_screen(ConfirmScreen("Discard the draft?", question, yes="Discard", no="Keep"), confirmed)

    @work(exclusive=True, group="facts")
    async def _reset(self) -> None:
        form = self.query_one("#tb-form", VerticalScroll)
        self.loaded = False
        await form.remove_children()
        await self._build_form()
        self.loaded = True
        self.error = None
        self._validate()
        self.notify("Draft discarded.", markup=False)

    # --- the draft -----------------------------------------------------------------------------

    def team_id(self) -> str | None:
        if not self.loaded:
            return None
        value = self.query_one("#team", Select).value
        return value if isinstance(value, str) else None

    def draft(self) -> AcceptanceDraft | None:
        team_id = self.team_id()
        if team_id is None:
            return None
        roster = self.query_one("#roster", RosterEditor)
        if self.is_challenge:
            return AcceptanceDraft.build(team_id, roster.active, roster.bench_entries())
        picker = self.query_one("#maps", MapPicker)
        message = self.query_one("#message", MessageField).value
        return AcceptanceDraft.build(
            team_id,
            roster.active,
            roster.bench_entries(),
            map_mode=picker.mode if picker.maps else None,
            selected_maps=picker.maps,
            message=message or None,
            disputed_rules=self.query_one("#rules", DisputedRules).rules,
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "team":
            return
        # The picker's value now, not the message's: a message posted before a kept draft was
        # restored names a team the roster no longer belongs to.
        value = event.select.value
        if isinstance(value, str) and value in self.facts:
            if value != self._roster_team:  # another team: its members, nobody chosen yet
                self._roster_team = value
                self.query_one("#roster", RosterEditor).set_members(self.facts[value].team.members)
            self._validate()

    def on_roster_editor_changed(self) -> None:
        self._validate()

    def on_map_picker_changed(self) -> None:
        self._validate()

    def on_message_field_changed(self) -> None:
        self._validate()

    def on_disputed_rules_changed(self) -> None:
        self._validate()

    # --- state ---------------------------------------------------------------------------------

    @property
    def expired(self) -> bool:
        entry = self.entry
        return entry is not None and entry.offer.expired(entry.clock)

    def can_submit(self) -> bool:
        entry = self.entry
        return (
            self.loaded
            and entry is not None
            and entry.closed is None
            and not self.expired
            and not self.busy
            and self.sent_note is None
            and not self.current
        )

    def can_refuse(self) -> bool:
        entry = self.entry
        return (
            self.is_challenge
            and self.loaded
            and entry is not None
            and entry.closed is None
            and not self.expired
            and not self.busy
            and self.sent_note is None
        )

    def watch_busy(self, busy: bool) -> None:
        if busy:
            # The form is disabled while sending: the field that had the focus gets it back.
            self._focus_before = self.focused
        self._show()
        if not busy:
            before, self._focus_before = self._focus_before, None
            if before is not None and before.is_attached and before.focusable:
                before.focus()

    def watch_error(self) -> None:
        self._show()

    def _validate(self) -> None:
        """Check the draft as it stands now (after a change, and as time passes), and show it."""
        draft = self.draft()
        entry = self.entry
        now = (entry.clock if entry is not None else self.lobby.clock).now()
        # Once the answer went out (or the offer closed) the draft is checked no more: its old
        # violations would describe nothing that can still be sent.
        settled = self.sent_note is not None or (entry is not None and entry.closed is not None)
        problems = [] if draft is None or settled else self.form.problems(draft, now)
        state = self.form_state() if self.loaded else None
        if state != self._last_state:
            # The draft changed: a refusal of an earlier draft no longer describes this one.
            if self._last_state is not None:
                self.error = None
                self.unreachable = None
            self._last_state = state
        self.current = problems
        self._keep_draft()
        self._show()

    def _show(self) -> None:
        """Show the last check, the state of sending and what can be done."""
        entry = self.entry
        panel = self.query_one("#tb-violations", Static)
        text = Text()
        if self.loaded:
            if self.current:
                for v in self.current:
                    if text:
                        text.append("\n")
                    text.append("✖ ", style="bold red")
                    text.append_text(plain(v.details, limit=MESSAGE))
            elif self.sent_note is None and self.error is not None:
                # Every rule the console can check is met: the service applied one it cannot.
                text.append("✖ ", style="bold red")
                text.append("Every rule this console can check is met; the service refused the draft ")
                text.append("on something only it knows (below).")
            elif self.sent_note is None:
                text.append("✔ ", style="bold green")
                text.append("Ready to send: every rule this console can check is met.")
        panel.update(text)
        panel.set_class(bool(self.current) or self.error is not None, "-problems")
        panel.display = bool(text)
        status = self.query_one("#tb-status", Static)
        if self.busy:
            status.update(Text("Sending…", style="italic"))
        elif self.unreachable is not None:
            # Wrapped, never cut: the address that could not be reached ends the sentence.
            words = Text()
            words.append("Not sent: unreachable; your draft is kept. ", style="bold yellow")
            words.append_text(plain(self.unreachable, limit=MESSAGE))
            status.update(words)
        elif self.error is not None:
            words = Text()
            words.append("Refused: ", style="bold red")
            words.append_text(plain(self.error, limit=MESSAGE))
            status.update(words)
        elif entry is not None and entry.closed is not None:
            status.update(plain(entry.closed.outcome or entry.closed.status, "bold"))
        elif self.sent_note is not None:
            status.update(plain(self.sent_note, "bold green"))
        elif self.expired:
            status.update(Text("Expired: the match has started.", style="bold red"))
        else:
            status.update("")
        # Sent: read-only, nothing left to send, refuse or discard.
        read_only = self.sent_note is not None
        submit = self.query_one("#submit", Button)
        submit.disabled, submit.display = not self.can_submit(), not read_only
        if self.is_challenge:
            refuse = self.query_one("#refuse", Button)
            refuse.disabled, refuse.display = not self.can_refuse(), not read_only
        self.query_one("#tb-form").disabled = self.busy or self.sent_note is not None or self.expired
        self.set_class(self.expired, "-expired")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.sent_note is not None and action in ("submit", "refuse", "discard"):
            return False  # read-only: not offered at all
        if action == "submit":
            return True if self.can_submit() else None
        if action == "refuse":
            return (True if self.can_refuse() else None) if self.is_challenge else False
        if action == "discard":
            return True if self.changed else None
        return True

    # --- answering -----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            event.stop()
            self.action_submit()
        elif event.button.id == "refuse":
            event.stop()
            self.action_refuse()

    def action_submit(self) -> None:
        # Every change and every tick checked the draft already: the backend checks it once more
        # as it sends it, so submitting runs the rules once.
        draft = self.draft()
        if draft is None or not self.can_submit():
            return
        self.send(draft)

    def send(self, draft: AcceptanceDraft) -> None:
        self.unreachable = None
        self.answer(
            lambda backend, offer_id: backend.accept(offer_id, draft),
            refused="Not accepted",
            sent=self._accepted,
            unreachable=self._unreachable,
        )

    def _accepted(self, note: str) -> None:
        self.sent_note = brief(note, MESSAGE) if note else "Sent."
        self._record_sent()
        self.lobby.answered(self.key, self.sent_note)
        self._validate()
        self.notify(self.sent_note, markup=False)

    def _unreachable(self, exc: Unavailable) -> None:
        """Not sent, and not refused: the service could not be reached. The draft stays."""
        self.unreachable = clean(exc.message)
        self.notify(
            f"Not sent: the service cannot be reached. Your draft is kept; send it again once it is back. "
            f"({brief(exc.message, MESSAGE)})",
            title="Not sent",
            severity="error",
            markup=False,
        )
        self._show()

    def action_refuse(self) -> None:
        if not self.can_refuse():
            return
        from lobby.tui.screens.confirm import ConfirmScreen

        entry = self.entry
        assert entry is not None
        question = Text("Refuse ")
        question.append_text(plain(entry.offer.title, "bold", limit=BRIEF))
        question.append("?\n\nThe challenger is told; the match will not be played.")
        reason = self.query_one("#reason", FormInput).value or None

        def confirmed(yes: bool | None) -> None:
            if yes and self.can_refuse():
                self.refuse(reason)

        self.app.push_screen(ConfirmScreen("Refuse the challenge?", question, yes="Refuse", no="Keep"), confirmed)

    def refuse(self, reason: str | None) -> None:
        self.unreachable = None
        self.answer(
            lambda backend, offer_id: backend.reject(offer_id, reason),
            refused="Not refused",
            sent=self._refused,
            unreachable=self._unreachable,
        )

    def _refused(self, note: str) -> None:
        self.sent_note = brief(note, MESSAGE) if note else "Refused."
        self._record_sent()
        self.lobby.answered(self.key, self.sent_note)
        self._validate()

    def action_back(self) -> None:
        self.say_kept()
        self.dismiss(None)

    def say_kept(self) -> None:
        """Leaving with unsent changes: say they are kept."""
        if self.changed:
            self._keep_draft()
            self.notify(
                "Your draft is kept: it comes back when you open this offer again "
                f"({self.lobby.key_for(TeamBattlesScreen, 'lobby.tb.discard')} discards it).",
                title="Draft kept",
                markup=False,
            )

    def on_screen_suspend(self) -> None:
        self._keep_draft()

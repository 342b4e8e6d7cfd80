"""Pictures of hostile network text, at 80x24 and 120x40: it shows literally (markup as typed,
escape sequences and control characters gone), long strings are cut with "…", rows keep their
height, and wide, right-to-left and combining characters keep the columns in line.

Deterministic: a frozen clock, the fixed in-memory backend, recorded moderation events.
"""

from __future__ import annotations

import asyncio
import dataclasses

import hostile as H
import pytest
from doubles import T0, FixedBackend, FixedTeamBattles, challenge, focused_on, open_match, settle, ticket, until
from pilots import settle_replay
from synthetic import flexmatch_event, match_doc, sample_lobby, teambattles_event

from lobby.core.clock import FrozenClock
from lobby.core.offers import OfferKind, OfferUpdated
from lobby.moderation import Board, ReplaySource
from lobby.tui.app import LobbyApp
from lobby.tui.moderator.app import ModeratorApp

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
MOD_T0 = 1_767_268_800.0  # 2026-01-01 12:00:00 UTC
TEAM_NAMES = {
    "t_owls": H.TEAM_NAMES["t_owls"],
    "t_tigers": H.BIDI,
    "t_wolves": H.WIDE + " " + H.ZALGO,
}


class HostileTeamBattles(FixedTeamBattles):
    """The demo's teams, renamed by their owners to something hostile."""

    async def acceptance_facts(self, match_id):
        found = await super().acceptance_facts(match_id)
        return [
            dataclasses.replace(f, team=dataclasses.replace(f.team, name=TEAM_NAMES[f.team.id])) for f in found
        ]


#: Member ids and map ids as a service could send them.
MEMBERS = {H.NAME: "MEMBER", "[@click=app.quit]u_ada[/]": "MEMBER", H.LONG: "MEMBER", H.ZALGO: "MEMBER"}
MAPS = {"[i]harbor[/i]\x1b[5m": True, H.WIDE: True, H.LONG: True, H.BIDI: False}


class HostileRosters(HostileTeamBattles):
    """The Night Owls with hostile member ids, on a game whose map ids are hostile."""

    async def acceptance_facts(self, match_id):
        from lobby.core.answers import TeamRole

        found = await super().acceptance_facts(match_id)
        owls = found[0]
        members = {"u_you": TeamRole.CAPTAIN, **{u: TeamRole(r) for u, r in MEMBERS.items()}}
        game = dataclasses.replace(owls.game, maps=MAPS, mode_pools={owls.match.game_mode: tuple(MAPS)})
        return [dataclasses.replace(owls, team=dataclasses.replace(owls.team, members=members), game=game)]


def hostile_lobby(note: str = "Recorded.", teams: type[FixedTeamBattles] = HostileTeamBattles):
    flex = [
        ticket("t-1", title=H.everything(), players=(H.NAME, H.LONG, H.ZALGO, H.BIDI), configuration=H.LONG, match=H.OSC),
        ticket("t-2", title=H.LONG, players=(H.WIDE,), seconds=60),
    ]
    c = challenge()
    tb = [
        dataclasses.replace(c, title=H.MARKUP + " " + H.OSC, facts={**c.facts, "challengedTeam": H.NAME}),
        open_match("m-101", H.everything(), minutes=95, game=H.WIDE, region="[b]EU[/b]"),
        open_match("m-102", H.LONG, minutes=120, game=H.ZALGO, region=H.BIDI),
        open_match("m-103", H.CSI + H.CONTROLS + " scrim", minutes=30, game=H.LONG, region=H.CSI + "NA", size=2, game_id="gm_irontide", mode="siege"),
    ]
    fm = FixedBackend("flexmatch", flex, note=note)
    tbb = teams(tb, note=note)
    app = LobbyApp([fm, tbb], clock=FrozenClock(T0), profile="emulator", still=True)
    return app, fm, tbb


async def offers_shown(pilot) -> None:
    """Wait until the home screen lists every offer of :func:`hostile_lobby`."""
    from lobby.tui.screens.home import HomeScreen

    def listed() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, HomeScreen):
            return False
        tables = screen.query("#awaiting DataTable, #open DataTable")
        return sum(t.row_count for t in tables) == 6  # two tickets, a challenge, three open matches

    await until(pilot, listed, "the offers on the home screen")


async def footer_shows(pilot, *keys: str) -> None:
    """Wait until the footer lists ``keys`` (it redraws its keys after the focus moves)."""

    def shown() -> bool:
        return set(keys) <= {getattr(k, "key", None) for k in pilot.app.screen.query("FooterKey")}

    await until(pilot, shown, f"the keys {keys} in the footer")


async def open_offer(pilot, key):
    """Open the offer ``key`` on its own screen and wait until its form is built and drawn;
    that screen."""
    await offers_shown(pilot)
    home = pilot.app.screen
    pilot.app.open_offer(key)
    await until(pilot, lambda: pilot.app.screen is not home and pilot.app.screen.is_mounted, "the offer's screen")
    screen = pilot.app.screen
    await until(pilot, lambda: screen.loaded, "the offer's form")
    await settle(pilot, screen)
    return screen


@pytest.mark.parametrize("size", SIZES)
def test_hostile_home(snap_compare, size):
    """Every section, a filter on a hostile value, and an answered offer in "my requests"."""
    app, _, _ = hostile_lobby()

    async def run_before(pilot):
        await pilot.pause()
        pilot.app.answered((OfferKind.TEAMBATTLES_MATCH, "m-102"), H.MARKUP + H.LONG)
        pilot.app.set_filters({"region": "[b]EU[/b]"})
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_hostile_ticket(snap_compare, size):
    app, _, _ = hostile_lobby()

    async def run_before(pilot):
        from lobby.tui.screens.ticket import TicketScreen

        await offers_shown(pilot)
        await pilot.press("enter")
        await until(pilot, focused_on(pilot, TicketScreen, "#players"), "the ticket screen")

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_hostile_ticket_answered(snap_compare):
    """A ten-thousand-character title, and the server's note after an answer, cut."""
    app, _, _ = hostile_lobby(note=H.MARKUP + " " + H.OSC + " " + H.LONG)
    app.NOTIFICATION_TIMEOUT = 3600  # the toast stays up until the picture, however slow the machine

    async def run_before(pilot):
        from lobby.tui.screens.ticket import TicketScreen

        await offers_shown(pilot)
        await pilot.press("down", "enter")
        await until(pilot, focused_on(pilot, TicketScreen, "#players"), "the ticket screen")
        await pilot.press("a")
        screen = pilot.app.screen
        await settle(pilot, screen)  # the answer worker is done
        await until(pilot, lambda: screen.query("Toast"), "the toast saying it was accepted")
        await footer_shows(pilot, "a", "r")

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)


def test_hostile_reject_confirmation(snap_compare):
    app, _, _ = hostile_lobby()

    async def run_before(pilot):
        from lobby.tui.screens.ticket import TicketScreen

        await offers_shown(pilot)
        await pilot.press("enter")
        await until(pilot, focused_on(pilot, TicketScreen, "#players"), "the ticket screen")
        await pilot.press("r")
        await until(pilot, lambda: not isinstance(pilot.app.screen, TicketScreen), "the confirmation")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_hostile_teambattles_form(snap_compare, size):
    """The heading, the team names, and the server's note after sending."""
    app, _, _ = hostile_lobby(note=H.MARKUP + " " + H.OSC + " " + H.LONG)

    async def run_before(pilot):
        screen = await open_offer(pilot, (OfferKind.TEAMBATTLES_MATCH, "m-101"))
        await pilot.press("a", "down", "a", "down", "a", "down", "a")
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        pilot.app.clear_notifications()
        await pilot.pause()
        screen.query_one("#tb-form").scroll_home(animate=False, immediate=True)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_hostile_members_and_maps(snap_compare, size):
    """Member ids and map ids from the service, one line each, in the roster and the map list."""
    app, _, _ = hostile_lobby(teams=HostileRosters)

    async def run_before(pilot):
        from textual.widgets import RadioButton

        key = (OfferKind.TEAMBATTLES_MATCH, "m-101")
        screen = await open_offer(pilot, key)
        screen.query_one("#maps").query(RadioButton)[1].value = True  # Preferred: the map list shows

        def checked() -> bool:  # the screen has checked the draft with "Preferred" and kept it
            kept = pilot.app.drafts.get(key)
            return kept is not None and kept.map_mode == 1 and kept == screen.form_state()

        await until(pilot, checked, "the draft with a map preference")
        await footer_shows(pilot, "a", "b")  # the roster's keys
        screen.query_one("#roster").scroll_visible(animate=False, immediate=True, top=True)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_hostile_team_choice(snap_compare):
    """The team picker open: every team name literal, one line each."""
    app, _, _ = hostile_lobby()

    async def run_before(pilot):
        screen = await open_offer(pilot, (OfferKind.TEAMBATTLES_CHALLENGE, "c-1"))
        screen.query_one("#tb-form").scroll_home(animate=False, immediate=True)
        screen.query_one("#team").focus()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES["120x40"], run_before=run_before)


def test_hostile_toast(snap_compare):
    """A challenge arrives with a hostile, ten-thousand-character title."""
    app, _, tbb = hostile_lobby()

    async def run_before(pilot):
        await pilot.pause()
        arrival = dataclasses.replace(challenge("c-2"), title=H.MARKUP + " " + H.OSC + " " + H.LONG)
        tbb.queue.put_nowait(OfferUpdated(offer=arrival))
        await toast_shows(pilot)

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)


async def toast_shows(pilot) -> None:
    """Wait until a toast shows."""
    async with asyncio.timeout(10):
        while not pilot.app.screen.query("Toast"):
            await pilot.pause(0.02)
    await pilot.pause()


async def palette_shows(pilot, search: str, hits: int) -> None:
    """Wait until the palette has searched for ``search`` (it searches in the background) and
    lists ``hits`` commands."""
    from textual.command import CommandInput, CommandList

    palette = pilot.app.screen

    def searched() -> bool:
        searching = any(w.node is palette and not w.is_finished for w in pilot.app.workers)
        return (
            palette.query_one(CommandInput).value == search
            and not searching
            and palette.query_one(CommandList).option_count == hits
        )

    await until(pilot, searched, f"the palette's {hits} hits for {search!r}")


def test_hostile_backend_failure(snap_compare):
    """A service's error sentence, hostile and ten thousand characters long: the backend bar,
    the section's placeholder and the toast all cut it."""
    from lobby.core.errors import Unavailable

    app, fm, _ = hostile_lobby()
    fm.fail = Unavailable(H.everything() + " " + H.LONG)

    async def run_before(pilot):
        await toast_shows(pilot)

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)


def test_hostile_command_palette(snap_compare):
    app, _, _ = hostile_lobby()

    async def run_before(pilot):
        from textual.command import CommandInput, CommandPalette

        await offers_shown(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, focused_on(pilot, CommandPalette, CommandInput), "the command palette")
        pilot.app.screen.query_one(CommandInput).cursor_blink = False  # the cursor shows, whenever the picture is taken
        await pilot.press(*"jump")
        await palette_shows(pilot, "jump", 6)  # the six open offers

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=run_before)


# --- the moderator's console ---------------------------------------------------------------------


def hostile_events() -> list[dict]:
    t0 = MOD_T0
    spec = lambda ticket_id, players, team=None: (ticket_id, t0 - 50, [(p, team, None) for p in players])  # noqa: E731
    red = spec("t-evil-red", [H.NAME, H.MARKUP, H.LONG], "red")
    blue = spec("t-evil-blue" + H.CSI, [H.WIDE, H.ZALGO, H.BIDI], "blue")
    events = [
        flexmatch_event("MatchmakingSearching", uid="h1", time=t0 - 50, tickets=[red], configuration="ranked-5v5"),
        flexmatch_event("MatchmakingSearching", uid="h2", time=t0 - 48, tickets=[blue], configuration="ranked-5v5"),
        flexmatch_event(
            "PotentialMatchCreated", uid="h3", time=t0 - 20, tickets=[red, blue], matchId="m-" + H.OSC,
            acceptanceRequired=True, acceptanceTimeout=45,
        ),  # fmt: skip
        flexmatch_event(
            "MatchmakingCancelled", uid="h4", time=t0 - 5, tickets=[spec("t-evil-gone", [H.CONTROLS])],
            reason="CANCELLED", message=H.everything() + " " + H.LONG,
        ),  # fmt: skip
    ]
    evil = match_doc("tbm_evil", creator=("t_evil", H.TEAM_NAMES["t_vipers"]), game=H.BIDI, mode=H.CSI + "hp", created=t0 - 900, scheduled=t0 + 1800)
    events.append(teambattles_event("match.created", uid="w1", time=t0 - 900, match=evil))
    gone = {**evil, "id": "tbm_evil_gone", "status": "CANCELLED"}
    events.append(teambattles_event("match.cancelled", uid="w2", time=t0 - 30, match=gone, reason=H.MARKUP + " " + H.LONG))
    return sample_lobby(t0)[:6] + events


def moderator():
    replay = ReplaySource(hostile_events(), description="emulator at http://127.0.0.1:8000")
    return ModeratorApp(replay, clock=FrozenClock(MOD_T0), board=Board(), still=True), replay


def open_row(replay, row_id: str):
    """A ``run_before``: every row shown, then the timeline of row ``row_id``."""

    async def run_before(pilot) -> None:
        await settle_replay(replay, "f")(pilot)
        screen = pilot.app.screen
        row = next(i for i, r in enumerate(screen.model) if r.id == row_id)
        for _ in range(row):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_hostile_moderator_table(snap_compare, size):
    app, replay = moderator()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle_replay(replay, "f"))


@pytest.mark.parametrize("size", SIZES)
def test_hostile_moderator_timeline(snap_compare, size):
    """The proposed match of hostile players: facts and timeline."""
    app, replay = moderator()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=open_row(replay, "t-evil-red"))


def test_hostile_moderator_cancelled_timeline(snap_compare):
    """A ten-thousand-character reason, cut in the facts and in the timeline."""
    app, replay = moderator()
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=open_row(replay, "tbm_evil_gone"))


def test_the_pictures_hold_no_escape_or_control_character():
    from pathlib import Path

    pictures = sorted((Path(__file__).parent / "__snapshots__" / "test_hostile_text").glob("*.svg"))
    assert len(pictures) >= 19
    for svg in pictures:
        text = svg.read_text("utf-8")
        found = [c for c in H.FORBIDDEN if c in text]
        assert not found, f"{svg.name} holds {found!r}"
        assert "pwned" not in text and "cHduZWQ" not in text, svg.name  # OSC payloads are gone
    home = (pictures[0].parent / "test_hostile_home[120x40].svg").read_text("utf-8")
    assert "[@click=app.quit]quit[/]" in home.replace("&#160;", " ")

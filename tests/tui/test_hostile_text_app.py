"""Hostile text from the network renders literally, runs nothing and breaks no layout.

The real app against the emulator on a loopback port, seeded with hostile names (team names,
map names, match notes) and fed hostile player ids: every place such text shows is drawn and
checked segment by segment (no escape or control character, no hyperlink, no action), hostile
markup is clicked, and the app is still running afterwards. Ten-thousand-character strings
come through the in-memory double where the service caps a field shorter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import hostile as H
import pytest
from doubles import T0, FixedBackend, FixedTeamBattles, challenge, open_match, focused_on, settle, ticket, until
from synthetic import flexmatch_event, match_doc, teambattles_event
from textual.widgets import DataTable, Input, Select, SelectionList, Static

from lobby.config_schema import GameLiftProfile, Profile
from lobby.core.clock import FrozenClock
from lobby.core.offers import OfferKind, OfferUpdated
from lobby.emulator.runtime import EmulatorConfig
from lobby.cli.profiles import flexmatch_backend as open_backend
from lobby.moderation import Board
from lobby.moderation.board import Kind
from lobby.moderation.sources import EmulatorSource
from lobby.teambattles.backend import TeamBattlesBackend
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import check_key
from lobby.teambattles.requests import RequestStore
from lobby.tui.app import LobbyApp
from lobby.tui.moderator.app import ModeratorApp
from lobby.tui.moderator.detail import ModerationDetailScreen
from lobby.tui.safe import brief, clean, plain, shorten
from lobby.tui.screens.confirm import ConfirmScreen
from lobby.tui.screens.home import HomeScreen
from lobby.tui.screens.teambattles import TeamBattlesScreen
from lobby.tui.screens.ticket import TicketScreen

HANG = 20  # a guard against hangs only
YOU = "tb_test_you_pro_personal_0001"
HP = (OfferKind.TEAMBATTLES_MATCH, "tbm_vipers_hp")
CHALLENGE = (OfferKind.TEAMBATTLES_CHALLENGE, "tbm_vipers_challenge_owls")
#: A FlexMatch player id (the service allows any 1 to 1024 characters).
EVIL_PLAYER = "[@click=app.quit]mallory[/] \x1b]8;;https://evil.example\x07x\x1b]8;;\x07\u202e🦉 " + "M" * 900
VIPERS_SHOWN = "[b]Vipers[/b] STAR 🐍"
OWLS_SHOWN = "[@click=app.quit]Owls[/] link"


@pytest.fixture
def emulator_config(tmp_path) -> EmulatorConfig:
    return EmulatorConfig(scenario=H.hostile_teambattles(tmp_path), time_travel=True)


def teambattles(emulator) -> TeamBattlesBackend:
    return TeamBattlesBackend(
        TeamBattlesClient(emulator.url + "/api/v1", check_key(YOU, "test")),
        requests=RequestStore("emulator"),
        user="you",
        feed_url=emulator.url,
    )


def rows_are_one_line(app) -> None:
    for table in app.screen.query(DataTable):
        assert all(row.height == 1 for row in table.rows.values()), table


async def click_everywhere(pilot, selector: str, width: int) -> None:
    """Click along the first line of ``selector``: markup there, if parsed, would act."""
    for x in range(0, width, 7):
        await pilot.click(selector, offset=(x, 0))
    await pilot.pause()


# --- pure functions ---------------------------------------------------------------------------


def test_every_sample_is_cleaned_to_its_literal_text():
    for name, shown in H.SHOWN.items():
        assert clean(getattr(H, name)) == shown, name
    text = plain(H.everything())
    assert not text.spans and text.no_wrap and text.overflow == "ellipsis"
    assert not any(c in text.plain for c in H.FORBIDDEN)


def test_separators_lone_surrogates_and_bidi_marks_never_reach_the_terminal():
    assert clean("a\u2028b\u2029c") == "a b c"
    assert clean("a\u2028b", multiline=True) == "a\nb"
    assert clean("bad \ud800 half") == "bad \ufffd half"
    plain("\udfff").plain.encode("utf-8")  # a terminal can write it
    assert clean("\u200fRLM\u200e\u061c") == "RLM"


def test_shorten_cuts_by_cells_with_an_ellipsis():
    from rich.cells import cell_len

    assert shorten(H.LONG, 20) == "W" * 19 + "…"
    assert shorten("short", 20) == "short"
    for sample in (H.WIDE * 50, H.ZALGO * 500, H.BIDI * 50):
        cut = shorten(sample, 21)
        assert cut.endswith("…") and cell_len(cut) <= 21
    assert brief(H.CSI + H.LONG, 10) == "csi" + "W" * 6 + "…"


# --- TeamBattles: names from the emulator -----------------------------------------------------


async def test_hostile_team_names_show_literally_on_home_the_form_and_my_requests(emulator):
    app = LobbyApp([teambattles(emulator)], still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.store.get(HP) is not None and app.store.get(CHALLENGE) is not None)
        await pilot.pause(0.2)
        text = H.screen_text(app)
        assert VIPERS_SHOWN in text  # the creator's name in the home rows, brackets and all
        H.assert_inert(app)
        rows_are_one_line(app)
        await click_everywhere(pilot, "#awaiting DataTable", 60)
        while not isinstance(app.screen, HomeScreen):  # a click may open a row: come back
            await pilot.press("escape")
            await pilot.pause()
        assert app.is_running

        app.open_offer(HP)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TeamBattlesScreen)
        await settle(pilot, screen)
        assert screen.loaded, screen.load_error
        assert f"Open match  {VIPERS_SHOWN} [CVPR] looks for an opponent" in H.screen_text(app)
        team = screen.query_one("#team", Select)
        assert OWLS_SHOWN in H.screen_text(app) or OWLS_SHOWN in str(team.selection)
        H.assert_inert(app)
        await click_everywhere(pilot, "#tb-title", 100)
        assert app.is_running and app.screen is screen

        # A request with a hostile message: the server keeps it as typed, the screen shows it
        # literally in "my requests".
        from lobby.tui.widgets.roster_editor import RosterEditor

        roster = screen.query_one(RosterEditor)
        roster.focus()
        ids = [roster.get_option_at_index(i).id for i in range(roster.option_count)]
        for user in ("u_you", "u_ada", "u_bo", "u_cy"):
            roster.highlighted = ids.index(user)
            await pilot.press("a")
        message = "[@click=app.quit]gg[/] [b]🦉"  # control characters are refused
        screen.query_one("#message Input", Input).value = message
        await pilot.pause()
        assert "Ready to send" in str(screen.query_one("#tb-violations", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        [(stored,)] = emulator.runtime.store.query(
            "SELECT message FROM tb_acceptances WHERE match_id = ?", ("tbm_vipers_hp",)
        )
        assert stored == message
        H.assert_inert(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        requests = app.screen.query_one("#requests DataTable", DataTable)
        assert requests.row_count == 1 and VIPERS_SHOWN in requests.get_row_at(0)[1].plain
        H.assert_inert(app)
        rows_are_one_line(app)
        assert app.is_running


async def test_the_challenge_form_and_its_refusal_question_are_literal(emulator):
    app = LobbyApp([teambattles(emulator)], still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.store.get(CHALLENGE) is not None)
        app.open_offer(CHALLENGE)
        await pilot.pause()
        screen = app.screen
        await settle(pilot, screen)
        assert VIPERS_SHOWN in H.screen_text(app)
        H.assert_inert(app)
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert VIPERS_SHOWN in H.screen_text(app)
        H.assert_inert(app)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and app.is_running


# --- FlexMatch: a hostile player id through the emulator ----------------------------------------


async def test_a_hostile_player_id_in_the_toast_the_ticket_and_the_answer(emulator):
    profile = Profile(kind="emulator", gamelift=GameLiftProfile(endpoint_url=emulator.url, players=[EVIL_PLAYER]))
    backend = await open_backend(profile)
    client = backend.client
    rules = {
        "name": "duel",
        "ruleLanguageVersion": "1.0",
        "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
    }
    await client.create_matchmaking_rule_set("rules-hostile", rules)
    await client.create_matchmaking_configuration(
        name="hostile", rule_set_name="rules-hostile", acceptance_required=True,
        acceptance_timeout_seconds=60, request_timeout_seconds=600, flex_match_mode="WITH_QUEUE",
    )  # fmt: skip
    app = LobbyApp([backend], clock=backend.clock, still=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await until(pilot, lambda: app.status.get("flexmatch") and app.status["flexmatch"].health.value == "live")
        mine = await backend.start("hostile", [EVIL_PLAYER])
        await client.start_matchmaking("hostile", ["bob"])
        key = (OfferKind.FLEXMATCH_TICKET, mine.ticket_id)
        await until(pilot, lambda: app.store.get(key) is not None)
        await until(pilot, lambda: any(n.title == "Match found" for n in app._notifications) and app.screen.query("Toast"))
        [toast] = [n for n in app._notifications if n.title == "Match found"]
        assert toast.message.startswith("A match was found for [@click=app.quit]mallory[/] x🦉 MMM")
        assert len(toast.message) < 300  # cut, not 900 characters of M
        assert "[@click=app.quit]mallory[/]" in H.screen_text(app)  # the toast, drawn
        H.assert_inert(app)
        rows_are_one_line(app)

        app.open_offer(key)
        await until(pilot, focused_on(pilot, TicketScreen, "#players"))
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        players = screen.query_one("#players", SelectionList)
        assert players.option_count == 1 and players.virtual_size.height == 1
        H.assert_inert(app)
        await click_everywhere(pilot, "#ticket-head", 78)
        await pilot.press("a")
        await settle(pilot, screen)
        await until(pilot, lambda: app.store.get(key).offer.progress == (1, 2))
        [described] = await client.describe_matchmaking([mine.ticket_id])
        assert [p.player_id for p in described.players] == [EVIL_PLAYER]
        assert any(n.message.startswith("Accepted for [@click=app.quit]mallory[/]") for n in app._notifications)
        H.assert_inert(app)
        assert app.is_running


# --- the moderator's console --------------------------------------------------------------------


async def test_the_moderator_table_and_timeline_show_hostile_ids_and_names_literally(emulator):
    backend = await open_backend(Profile(kind="emulator", gamelift=GameLiftProfile(endpoint_url=emulator.url)))
    client = backend.client
    await client.create_matchmaking_rule_set(
        "rules-mod", {"name": "solo", "ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 2, "maxPlayers": 2}]}
    )
    await client.create_matchmaking_configuration(
        name="mod", rule_set_name="rules-mod", acceptance_required=True,
        acceptance_timeout_seconds=60, request_timeout_seconds=600, flex_match_mode="WITH_QUEUE",
    )  # fmt: skip
    started = await client.start_matchmaking("mod", [EVIL_PLAYER])
    await backend.aclose()
    app = ModeratorApp(EmulatorSource(emulator.url), board=Board(), still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await until(pilot, lambda: app.screen.board.get((Kind.TICKET, started.ticket_id)) is not None)
        await until(pilot, lambda: app.screen.board.get((Kind.MATCH, "tbm_vipers_hp")) is not None)
        screen.frame(figures=True)
        await pilot.pause()
        text = H.screen_text(app)
        assert "[@click=app.quit]mallory[/" in text and "[@click=app.quit]Owls[/]" in text
        assert "[b]Vipers[/b]" in text
        H.assert_inert(app)
        await pilot.click("ModerationTable", offset=(40, 3))
        await pilot.pause()
        assert app.is_running

        app.push_screen(ModerationDetailScreen(app.screen.board, (Kind.TICKET, started.ticket_id), app.clock))
        await pilot.pause()
        facts = H.screen_text(app)
        assert "players [@click=app.quit]mallory[/] x🦉" in facts
        H.assert_inert(app)
        await click_everywhere(pilot, "#mod-detail-facts", 110)
        assert app.is_running


async def test_long_hostile_event_text_stays_within_the_timeline():
    from lobby.moderation import ReplaySource

    t0 = 1_767_268_800.0
    players = [(H.LONG, "red", None), (H.NAME, "red", None)]
    events = [
        flexmatch_event("MatchmakingSearching", uid="e1", time=t0 - 50, tickets=[("t-long", t0 - 50, players)]),
        flexmatch_event(
            "MatchmakingCancelled", uid="e2", time=t0 - 10, tickets=[("t-long", t0 - 50, players)],
            reason="CANCELLED", message=H.everything() + H.LONG,
        ),  # fmt: skip
    ]
    vipers = match_doc("tbm_evil", creator=("t_evil", H.TEAM_NAMES["t_vipers"]), game=H.BIDI, created=t0 - 900, scheduled=t0 + 900)
    events.append(teambattles_event("match.cancelled", uid="w1", time=t0 - 5, match={**vipers, "status": "CANCELLED"}, reason=H.MARKUP + H.LONG))
    replay = ReplaySource(events, description="recorded")
    app = ModeratorApp(replay, clock=FrozenClock(t0), board=Board(), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        async with asyncio.timeout(HANG):
            await replay.drained.wait()
        app.screen.frame(figures=True)
        await pilot.press("f")
        await pilot.pause()
        H.assert_inert(app)
        for key in ((Kind.TICKET, "t-long"), (Kind.MATCH, "tbm_evil")):
            app.push_screen(ModerationDetailScreen(app.screen.board, key, app.clock))
            await pilot.pause()
            detail = app.screen
            facts = detail.query_one("#mod-detail-facts", Static)
            assert facts.outer_size.height <= 12, "the facts leave room for the timeline"
            timeline = detail.query_one("#mod-detail-timeline")
            assert timeline.outer_size.height >= 8
            assert detail.query_one("#mod-detail-events", Static).virtual_size.height < 40
            H.assert_inert(app)
            await pilot.press("escape")
            await pilot.pause()
        assert app.is_running


# --- long strings and the rest, through the in-memory double ------------------------------------


def long_lobby():
    flex = [ticket("t-1", title=H.LONG, players=(H.NAME, H.LONG, H.ZALGO), configuration=H.LONG, match=H.OSC)]
    c = challenge()
    tb = [
        open_match("m-101", H.LONG, minutes=95, game=H.LONG, region=H.BIDI),
        open_match("m-102", H.everything(), minutes=120, game=H.WIDE, region="[b]EU[/b]"),
        dataclasses.replace(c, title=H.everything() + H.LONG, facts={**c.facts, "creatorTeam": H.NAME}),
    ]
    fm = FixedBackend("flexmatch", flex)
    tbb = FixedTeamBattles(tb)
    return LobbyApp([fm, tbb], clock=FrozenClock(T0), profile="emulator", still=True), fm, tbb


async def test_ten_thousand_characters_are_cut_everywhere_they_show():
    app, fm, tbb = long_lobby()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        H.assert_inert(app)
        rows_are_one_line(app)
        await pilot.press("enter")  # the ticket
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.query_one("#ticket-head", Static).outer_size.height <= 8
        assert app.screen.query_one("#players", SelectionList).virtual_size.height == 3
        assert app.screen.query_one("#accept").region.bottom <= 23, "the buttons stay on screen"
        H.assert_inert(app)
        await pilot.press("r")  # the confirmation names the players, cut
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.query_one("#question", Static).outer_size.height <= 10
        H.assert_inert(app)
        await pilot.press("n")
        await pilot.pause()

        # The service closes the ticket with a hostile status message: shown literally, cut.
        from lobby.core.offers import OfferClosed

        fm.queue.put_nowait(
            OfferClosed(kind=OfferKind.FLEXMATCH_TICKET, id="t-1", status="CANCELLED", outcome=H.everything() + H.LONG)
        )
        await until(pilot, lambda: app.store.get((OfferKind.FLEXMATCH_TICKET, "t-1")).closed is not None)
        await pilot.pause()
        outcome = app.screen.query_one("#outcome", Static)
        assert str(outcome.render()).startswith("Cancelled. " + H.MARKUP)
        assert outcome.outer_size.height <= 5 and app.screen.query_one("#accept").region.bottom <= 23
        H.assert_inert(app)
        await pilot.press("escape")
        await pilot.pause()
        for key in ((OfferKind.TEAMBATTLES_MATCH, "m-101"), (OfferKind.TEAMBATTLES_CHALLENGE, "c-1")):
            app.open_offer(key)
            await pilot.pause()
            await settle(pilot, app.screen)
            assert app.screen.query_one("#tb-head").outer_size.height <= 7
            assert app.screen.query_one("#tb-form").outer_size.height >= 6, "the form keeps its room"
            H.assert_inert(app)
            await pilot.press("escape")
            await pilot.pause()

        # A new challenge arrives: its toast is cut too.
        c = challenge("c-2")
        tbb.queue.put_nowait(OfferUpdated(offer=dataclasses.replace(c, title=H.MARKUP + H.LONG)))
        await until(pilot, lambda: any(n.title == "Challenge received" for n in app._notifications))
        await pilot.pause()
        [toast] = [n for n in app._notifications if n.title == "Challenge received"]
        assert toast.message.startswith(H.MARKUP) and len(toast.message) < 300
        H.assert_inert(app)
        assert app.is_running


async def test_a_hostile_filter_value_and_the_command_palette_are_literal():
    app, *_ = long_lobby()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.set_filters({"region": "[b]EU[/b]"})
        await pilot.pause()
        assert "filter: Region: [b]EU[/b]" in H.screen_text(app)
        H.assert_inert(app)
        app.set_filters({"region": "[@click=app.quit]NA[/]" + H.OSC})  # no match: the placeholder says so
        await pilot.pause()
        assert "No open match fits the filters (Region: [@click=app.quit]NA[/]osc)" in H.screen_text(app)
        H.assert_inert(app)
        app.set_filters({"region": None})
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.press(*"jump")
        from textual.command import CommandList

        await until(pilot, lambda: app.screen.query_one(CommandList).option_count == 4)  # the four open offers
        assert "[@click=app.quit]quit[/]" in H.screen_text(app)
        H.assert_inert(app)
        assert app.is_running


def test_hostile_scenario_is_what_the_emulator_serves(tmp_path):
    """The seeded names reach the wire unchanged (the screen is what cleans them)."""
    from lobby.emulator.scenario import load_scenario

    doc = json.loads(H.hostile_teambattles(tmp_path).read_text("utf-8"))
    scenario = load_scenario(tmp_path / "hostile.json")
    names = {t.id: t.name for t in scenario.teambattles.teams}
    assert names["t_vipers"] == H.TEAM_NAMES["t_vipers"] and doc["teambattles"]["bots"] == []


# --- the command line prints network text too -------------------------------------------------


async def test_the_command_line_prints_hostile_names_without_their_escapes(emulator, monkeypatch, capsys):
    import os

    from lobby import paths
    from lobby.cli import main

    path = paths.emulator_announcement()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = await asyncio.to_thread(run, "matches")
    assert code == 0 and VIPERS_SHOWN in out
    assert not [c for c in H.FORBIDDEN if c in out + err]
    code, out, _ = await asyncio.to_thread(run, "matches", "--json")
    assert code == 0 and json.loads(out)  # JSON escapes control characters itself
    assert "\x1b" not in out

    # FlexMatch: a ticket of a hostile player id, listed by `lobby tickets`.
    backend = await open_backend(Profile(kind="emulator", gamelift=GameLiftProfile(endpoint_url=emulator.url)))
    try:
        await backend.client.create_matchmaking_rule_set(
            "rules-cli", {"name": "duo", "ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 2, "maxPlayers": 2}]}
        )
        await backend.client.create_matchmaking_configuration(
            name="cli", rule_set_name="rules-cli", acceptance_required=True,
            acceptance_timeout_seconds=60, request_timeout_seconds=600, flex_match_mode="WITH_QUEUE",
        )  # fmt: skip
        started = await backend.client.start_matchmaking("cli", [EVIL_PLAYER])
    finally:
        await backend.aclose()
    code, out, err = await asyncio.to_thread(run, "tickets", "--ticket", started.ticket_id, "--player", EVIL_PLAYER)
    assert code == 0, err
    assert "[@click=app.quit]mallory[/] x🦉" in out
    assert not [c for c in H.FORBIDDEN if c in out + err]

"""The moderator's screen under Pilot: a frozen clock, recorded events, real keys."""

from __future__ import annotations

import asyncio
import io

import pytest
from rich.console import Console
from synthetic import SyntheticLobby, flexmatch_event, sample_lobby
from textual import events
from textual.geometry import Region
from textual.widgets import Input

from lobby.core.clock import FrozenClock
from lobby.flexmatch.lifecycle import EventType
from lobby.moderation import Board, Column, ReplaySource, unwrap
from lobby.moderation.rows import Kind
from lobby.core.backend import FeedState
from lobby.tui.moderator.app import ModeratorApp
from lobby.tui.moderator.detail import ModerationDetailScreen
from lobby.tui.moderator.screen import EMPTY_LOBBY, ModeratorScreen
from lobby.tui.moderator.statuses import StatusPicker
from lobby.tui.moderator.table import ModerationTable, layout

T0 = 1_767_268_800.0  # 2026-01-01 12:00:00 UTC
HANG = 10  # a guard against hangs only


def moderator(events=None, **source) -> tuple[ModeratorApp, ReplaySource]:
    replay = ReplaySource(sample_lobby(T0) if events is None else events, description="emulator at http://127.0.0.1:8000", **source)
    return ModeratorApp(replay, clock=FrozenClock(T0), still=True), replay


async def settled(pilot, source: ReplaySource) -> ModeratorScreen:
    async with asyncio.timeout(HANG):
        await source.drained.wait()
    screen = pilot.app.screen
    assert isinstance(screen, ModeratorScreen)
    screen.frame(figures=True)
    await pilot.pause()
    return screen


def ids(screen: ModeratorScreen) -> list[str]:
    return [row.id for row in screen.model]


def lines(table: ModerationTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def shown(static) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=static.size.width or 120, color_system=None, file=io.StringIO())
    with console.capture() as capture:
        console.print(static.content)
    return capture.get()


def header_text(screen: ModeratorScreen) -> str:
    return str(screen.header.render())


async def test_every_live_row_shows_sorted_by_deadline():
    app, source = moderator()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot, source)
        assert ids(screen)[:6] == ["t-bot-0029", "t-dara-0002", "t-ayla-0001", "t-bots-0012", "tbm_owls_vs_foxes", "tbm_vipers_hp"]
        assert len(screen.model) == 15 and len(screen.board) == 21  # finished rows are hidden
        shown = lines(screen.table)
        assert shown[0].split() == ["ID", "CONFIG/GAME", "STATUS", "ACCEPTED", "LEFT▲", "IN", "STATUS", "AGE", "PLAYERS/TEAMS"]
        first = shown[1].split()
        assert first[:8] == ["F", "t-bot-0029", "duel-1v1", "ACCEPTING", "1/2", "0:08", "0:52", "1:01"]
        ayla = next(line for line in shown if "t-ayla-0001" in line)
        assert "5/7" in ayla and "0:25" in ayla and "captain-ayla, mate-bruno" in ayla
        vipers = next(line for line in shown if "tbm_vipers_hp" in line)
        assert "PENDING" in vipers and "0/2" in vipers and "30:00" in vipers and "Crimson Vipers" in vipers
        header = header_text(screen)
        assert "● live" in header and "15 of 21 rows" in header
        assert "searching 6" in header and "accepting 4" in header
        assert "accepted 50% of 4" in header and "rejected 1" in header and "timed out 1" in header
        assert "p50 0:30 p95 1:20" in header


async def test_network_text_is_shown_literally():
    app, source = moderator()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot, source)
        odd = next(line for line in lines(screen.table) if "t-odd-0666" in line)
        assert "[b]mallory[/b]" in odd  # not parsed as markup
        assert "\x1b" not in odd and "\x07" not in odd and "pwned" not in odd


async def test_slash_filters_fuzzily_and_escape_clears():
    app, source = moderator()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot, source)
        await pilot.press("slash", *"owls")
        await pilot.pause()
        assert ids(screen) == ["tbm_owls_vs_foxes", "tbm_vipers_hp"]  # a team name, a requester's team id
        await pilot.press("enter")  # back to the table, the filter stays
        assert screen.table.has_focus and ids(screen) == ["tbm_owls_vs_foxes", "tbm_vipers_hp"]
        await pilot.press("slash", "ctrl+u", *"mbru")  # mate-bruno, fuzzily
        await pilot.pause()
        assert ids(screen) == ["t-ayla-0001"]
        await pilot.press("ctrl+u", *"nobody here")
        await pilot.pause()
        assert ids(screen) == []
        assert "No row matches “nobody here”." in "".join(lines(screen.table))
        await pilot.press("escape")
        await pilot.pause()
        assert len(ids(screen)) == 15 and screen.table.has_focus


async def test_keys_typed_right_after_the_slash_reach_the_filter():
    """A browser or a fast typist sends "/owls" in one go: no key may slip to the table."""
    app, source = moderator()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot, source)
        for key, character in [("slash", "/"), *[(c, c) for c in "owls"], ("slash", "/")]:
            app.post_message(events.Key(key, character))
        await pilot.pause()
        assert screen.query_one("#mod-filter", Input).value == "owls/"
        assert isinstance(app.screen, ModeratorScreen)  # "s" or "t" did not reach the table


async def test_status_toggles_and_finished_rows():
    app, source = moderator()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot, source)
        await pilot.press("t")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, StatusPicker)
        await pilot.press("down", "space")  # SEARCHING off
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert "SEARCHING" in screen.model.hidden
        assert not any(row.status == "SEARCHING" for row in screen.model)
        await pilot.press("f")
        await pilot.pause()
        statuses = {row.status for row in screen.model}
        assert {"COMPLETED", "CANCELLED", "TIMED_OUT"} <= statuses and "SEARCHING" not in statuses


async def test_sorting_by_any_column():
    app, source = moderator()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot, source)
        await pilot.press("greater_than_sign")  # deadline -> in status
        assert screen.model.sort is Column.IN_STATUS
        assert ids(screen)[0] == "t-bot-0044"  # 3 s in status
        await pilot.press("r")
        assert ids(screen)[0] == "tbm_owls_vs_foxes"  # 40 min
        await pilot.press("less_than_sign", "less_than_sign", "less_than_sign")  # deadline, progress, status
        assert screen.model.sort is Column.STATUS and not screen.model.descending
        assert [row.status for row in screen.model][:1] == ["SEARCHING"]
        assert "STATUS▲" in lines(screen.table)[0]
        screen.table.post_message(ModerationTable.SortChosen(Column.ID))  # a click on the title
        await pilot.pause()
        assert ids(screen) == sorted(ids(screen))


async def test_clicking_a_title_sorts_by_it():
    app, source = moderator()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot, source)
        x = sum(w + 1 for _, w in layout(screen.table.scrollable_content_region.width)[:1]) + 1
        await pilot.click(ModerationTable, offset=(x, 0))
        await pilot.pause()
        assert screen.model.sort is Column.ID


async def test_the_cursor_follows_its_row_when_the_order_changes():
    app, source = moderator()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot, source)
        await pilot.press("down", "down")
        assert screen.table.cursor_key == (Kind.TICKET, "t-ayla-0001")
        # A new ticket with an earlier deadline arrives above it.
        screen.board.apply(
            unwrap(
                flexmatch_event(
                    EventType.POTENTIAL_MATCH_CREATED,
                    uid="late-1",
                    time=T0 - 40,
                    tickets=[("t-new-0001", T0 - 50, [("newbie", "red", None)])],
                    matchId="m-new",
                    acceptanceRequired=True,
                    acceptanceTimeout=42,
                )
            )
        )
        screen.frame()
        await pilot.pause()
        assert ids(screen)[0] == "t-new-0001"
        assert screen.table.cursor == 3 and screen.table.cursor_key == (Kind.TICKET, "t-ayla-0001")


async def test_the_cursor_keeps_its_row_while_a_new_order_is_made_in_slices():
    """Sorting a big lobby by a new column shows its first rows at once and makes the rest of
    the order in slices; the cursor's row, further down, is found once the order is whole or
    when a key moves the cursor."""
    board = Board()
    board.apply_all(unwrap(p) for p in SyntheticLobby(live=1500, rate=10, start=T0, seed=5).initial())
    app = ModeratorApp(ReplaySource([]), clock=FrozenClock(T0), board=board, still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ModeratorScreen)
        screen.model.slice_from = 200
        await pilot.press("end")
        table = screen.table
        key = table.cursor_key
        assert key is not None and table.cursor == len(screen.model) - 1
        screen.sort_by(Column.AGE)
        assert not screen.model.settled  # the first rows are known, the rest is being made
        assert table.cursor_key == key and screen.model.index_if_known(key) == (False, None)
        youngest = sorted(board.rows.values(), key=lambda r: (-r.created, r.id))[:10]
        assert [r.key for r in screen.model.rows(0, 10)] == [r.key for r in youngest]
        table.action_cursor(-1)  # a key needs the cursor's place: the order is finished then
        assert screen.model.settled
        assert table.cursor == screen.model.index_of(key) - 1
        assert table.cursor_key == screen.model.row_at(table.cursor).key


async def test_a_big_lobby_growing_keeps_its_scrollbar_true():
    """Under load the number of rows changes every frame; the scrollbar takes each new size
    (redrawn only when its picture changes) and shows what Textual draws afresh."""
    lobby = SyntheticLobby(live=1500, rate=300, start=T0, seed=9)
    board = Board()
    board.apply_all(unwrap(p) for p in lobby.initial())
    app = ModeratorApp(ReplaySource([]), clock=FrozenClock(T0), board=board, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ModeratorScreen)
        bar = screen.table.vertical_scrollbar
        screen.model.set_hidden(())  # finished rows too: every second adds rows
        for scroll in (0, 700, None, 0):  # None: at the bottom, where the thumb moves as rows come
            table = screen.table
            table.scroll_to(y=table.max_scroll_y if scroll is None else scroll, animate=False, immediate=True)
            board.apply_all(unwrap(p) for p in lobby.second())
            screen.frame()
            await pilot.pause()
            assert bar.window_virtual_size == len(screen.model) + 1
            whole = Region(0, 0, bar.size.width, bar.size.height)
            drawn = [list(line) for line in bar.render_lines(whole)]  # as on screen
            bar.refresh()
            assert [list(line) for line in bar.render_lines(whole)] == drawn  # as drawn afresh


async def test_events_are_batched_per_frame():
    """A burst of events costs one repaint of the table, not one per event."""
    app, source = moderator(events=[])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot, source)
        table = screen.table
        synced = []
        original = table.sync
        table.sync = lambda: (synced.append(1), original())  # type: ignore[method-assign]
        screen.board.apply_all(unwrap(p) for p in sample_lobby(T0))
        screen.frame()
        screen.frame()  # nothing new: nothing to move
        assert len(synced) == 1 and len(screen.model) == 15


async def test_enter_opens_the_timeline_and_it_keeps_up():
    app, source = moderator()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot, source)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, ModerationDetailScreen) and detail.key == (Kind.TICKET, "t-ayla-0001")
        facts = shown(detail.query_one("#mod-detail-facts"))
        assert "status ACCEPTING for 0:20" in facts and "5/7 accepted" in facts and "0:25 left to accept" in facts
        assert "waiting on mate-chen" in facts and "match m-7f3a91" in facts
        events = shown(detail.query_one("#mod-detail-events"))
        assert "Timeline · 7 events (UTC)" in events and "mate-bruno accepted; 4 of 7 accepted." in events
        answers = {"captain-ayla": True, "mate-bruno": True, "mate-chen": True}
        screen.board.apply(
            unwrap(
                flexmatch_event(
                    EventType.ACCEPT_MATCH,
                    uid="more-1",
                    time=T0,
                    tickets=[("t-ayla-0001", T0 - 95, [(p, "red", a) for p, a in answers.items()])],
                    matchId="m-7f3a91",
                )
            )
        )
        detail._redraw()
        events = shown(detail.query_one("#mod-detail-events"))
        assert "Timeline · 8 events" in events and "mate-chen accepted; 6 of 7 accepted." in events
        await pilot.press("escape")
        assert app.screen is screen


async def test_a_dropped_feed_shows_reconnecting():
    app, source = moderator(state=FeedState.RECONNECTING)
    source.last_event_id = 1234  # type: ignore[attr-defined]
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot, source)
        assert "◌ reconnecting · resuming after event 1234" in header_text(screen)
        assert screen.header.has_class("-reconnecting")
        source.state = FeedState.LIVE
        screen.frame()
        assert "● live" in header_text(screen) and not screen.header.has_class("-reconnecting")


async def test_an_empty_lobby_says_so():
    app, source = moderator(events=[])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot, source)
        assert EMPTY_LOBBY in "".join(lines(screen.table))
        assert "0 of 0 rows" in header_text(screen) and "nothing live" in header_text(screen)
        await pilot.press("enter", "down", "end", "t")  # nothing to open; the picker still opens
        await pilot.pause()
        assert isinstance(app.screen, StatusPicker)


async def test_finished_rows_are_pruned_as_time_passes():
    clock = FrozenClock(T0)
    replay = ReplaySource(sample_lobby(T0))
    app = ModeratorApp(replay, clock=clock, still=True, keep_finished=120)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settled(pilot, replay)
        assert len(screen.board) == 21
        clock.advance(150)
        for _ in range(10):  # the prune runs once a second's worth of frames
            screen.frame()
        assert len(screen.board) == 21 - 6  # every finished row is older than 120 s by now


async def test_the_screen_can_sit_on_the_captains_app():
    from doubles import FixedBackend

    from lobby.tui.app import LobbyApp

    app = LobbyApp([FixedBackend("flexmatch", [])], clock=FrozenClock(T0), still=True)
    replay = ReplaySource(sample_lobby(T0))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = ModeratorScreen(replay)
        await app.push_screen(screen)
        await settled(pilot, replay)
        assert screen.clock is app.clock and len(screen.model) == 15
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen


@pytest.mark.parametrize(("width", "players"), [(80, False), (120, True), (200, True)])
def test_columns_fit_the_width(width, players):
    columns = layout(width - 1)
    assert sum(w + 1 for _, w in columns) <= width
    assert (Column.PLAYERS in [c for c, _ in columns]) is players
    assert all(w >= 1 for _, w in columns)


def test_a_board_can_be_given_prefilled():
    board = Board()
    board.apply_all(unwrap(p) for p in sample_lobby(T0))

    async def run() -> None:
        app = ModeratorApp(ReplaySource([]), clock=FrozenClock(T0), board=board, still=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.screen.frame()
            assert len(app.screen.model) == 15

    asyncio.run(run())

async def test_shift_m_opens_the_moderators_view_of_the_profile():
    from doubles import FixedBackend

    from lobby.tui.app import LobbyApp

    replay = ReplaySource(sample_lobby(T0))
    asked: list[str | None] = []

    def moderation(profile):
        asked.append(profile)
        return replay

    app = LobbyApp(
        [FixedBackend("flexmatch", [])], clock=FrozenClock(T0), profile="demo", still=True, moderation=moderation
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("M")
        screen = await settled(pilot, replay)
        assert asked == ["demo"] and len(screen.model) == 15
        await pilot.press("M")  # already there: nothing stacks
        await pilot.pause()
        assert asked == ["demo"]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ModeratorScreen)


async def test_a_profile_without_a_feed_says_so_and_stays_home():
    from doubles import FixedBackend

    from lobby.tui.app import LobbyApp

    app = LobbyApp(
        [FixedBackend("flexmatch", [])], clock=FrozenClock(T0), profile="live", still=True, moderation=lambda p: None
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("M")
        async with asyncio.timeout(HANG):
            while not app._notifications:
                await pilot.pause(0.02)
        assert not isinstance(app.screen, ModeratorScreen)
        assert "notifications_queue" in str(list(app._notifications)[0].message)


async def test_without_a_moderation_source_the_binding_is_not_offered():
    from doubles import FixedBackend

    from lobby.tui.app import LobbyApp

    app = LobbyApp([FixedBackend("flexmatch", [])], clock=FrozenClock(T0), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("M")
        await pilot.pause()
        assert not isinstance(app.screen, ModeratorScreen)
        assert app.check_action("moderate", ()) is False


def test_the_cli_picks_the_feed_of_each_profile(tmp_path):
    from lobby.cli.app import moderation_source
    from lobby.config_schema import GameLiftProfile, Profile, Settings
    from lobby.moderation.sources import EmulatorSource
    from lobby.moderation.sqs import SqsSource

    queue = "https://sqs.eu-west-1.amazonaws.com/123456789012/flexmatch-events"
    settings = Settings(
        profiles={
            "aws": Profile(kind="live", gamelift=GameLiftProfile(notifications_queue=queue)),
            "bare": Profile(kind="live"),
        }
    )
    emulator = moderation_source(settings, "emulator", emulator_url="http://127.0.0.1:9")
    assert isinstance(emulator, EmulatorSource) and emulator.url == "http://127.0.0.1:9"
    sqs = moderation_source(settings, "aws")
    assert isinstance(sqs, SqsSource) and sqs.queue_url == queue and sqs.region == "eu-west-1"
    assert moderation_source(settings, "bare") is None
    with pytest.raises(ValueError, match="No emulator is running"):
        moderation_source(settings, "emulator")


def regional_lobby() -> list[dict]:
    """Tickets in two AWS regions: three in us-east-1, two in eu-west-1."""
    out = []
    for n, region in enumerate(["us-east-1", "us-east-1", "eu-west-1", "us-east-1", "eu-west-1"]):
        ticket = (f"t-{region}-{n}", T0 - 60 + n, [(f"p{n}", None, None)])
        event = flexmatch_event(EventType.SEARCHING, uid=f"eb-{n}", time=T0 - 60 + n, tickets=[ticket])
        event["region"] = region
        out.append(event)
    return out


async def test_rows_of_several_regions_show_their_region_and_filter_by_it():
    app, source = moderator(regional_lobby())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot, source)
        assert screen.table.show_region
        table = lines(screen.table)
        assert "REGION" in table[0].split()
        west = next(line for line in table if "t-eu-west-1-2" in line)
        assert west.split()[3] == "eu-west-1"
        await pilot.press("g")  # the first region alone (sorted by name)
        assert {row.region for row in screen.model} == {"eu-west-1"} and len(screen.model) == 2
        assert "in eu-west-1" in header_text(screen)
        await pilot.press("g")
        assert {row.region for row in screen.model} == {"us-east-1"} and len(screen.model) == 3
        await pilot.press("g")  # every region again
        assert screen.model.region is None and len(screen.model) == 5
        await pilot.press("slash", *"west", "enter")  # the fuzzy filter reads regions too
        await pilot.pause()
        assert {row.region for row in screen.model} == {"eu-west-1"}


async def test_rows_of_one_region_show_no_region_column():
    app, source = moderator()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settled(pilot, source)
        assert screen.board.region_names == ["us-east-1"]
        assert not screen.table.show_region and "REGION" not in lines(screen.table)[0]


@pytest.mark.parametrize("width", [80, 120, 200])
def test_the_region_column_fits_the_width_too(width):
    columns = layout(width - 1, region=True)
    assert sum(w + 1 for _, w in columns) <= width
    assert [c for c, _ in columns][:4] == [None, Column.ID, Column.GROUP, Column.REGION]
    assert all(w >= 1 for _, w in columns)

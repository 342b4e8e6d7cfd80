"""No message stops the moderator's console: unreadable ones are counted and listed."""

from __future__ import annotations

import asyncio

from synthetic import flexmatch_event, poison_messages, sample_lobby
from textual.widgets import DataTable

from lobby.core.clock import FrozenClock
from lobby.moderation import ReplaySource
from lobby.moderation.board import Kind
from lobby.tui.moderator.app import ModeratorApp
from lobby.tui.moderator.format import FOREVER, day_time, duration
from lobby.tui.moderator.rejected import RejectedView
from lobby.tui.moderator.screen import ModeratorScreen

T0 = 1_767_268_800.0
HANG = 10  # a guard against hangs only


def test_durations_and_moments_out_of_any_calendar_are_written_not_raised():
    assert duration(1e14) == FOREVER and duration(float("inf")) == FOREVER
    assert duration(float("nan")) == "-" and duration(42) == "0:42"
    assert day_time(1e20) == "-"


async def test_poison_and_a_huge_acceptance_timeout_leave_the_console_running():
    wild = flexmatch_event(
        "PotentialMatchCreated",
        uid="eb-wild",
        time=T0,
        tickets=[("t-wild", T0 - 5, [("wild", "red", None)])],
        matchId="m-wild",
        acceptanceRequired=True,
        acceptanceTimeout=1e14,
    )
    poison = list(poison_messages(T0).values())
    items = [*poison[:5], *sample_lobby(T0), wild, *poison[5:]]
    source = ReplaySource(items, description="recorded events")
    app = ModeratorApp(source, clock=FrozenClock(T0), still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        async with asyncio.timeout(HANG):
            await source.drained.wait()
        screen = app.screen
        assert isinstance(screen, ModeratorScreen)
        screen.frame(figures=True)
        await pilot.pause()
        row = screen.board.get((Kind.TICKET, "t-wild"))
        assert row is not None and row.status == "REQUIRES_ACCEPTANCE"
        assert source.rejects.count == len(poison)
        assert f"{len(poison)} rejected (x)" in str(screen.header.render())
        assert screen.feed_state == "live"
        await pilot.press("x")
        await pilot.pause()
        view = app.screen
        assert isinstance(view, RejectedView)
        table = view.query_one(DataTable)
        assert table.row_count == len(poison)
        listed = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert {"nested too deeply", "not JSON"} <= listed
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        # The row's deadline three million years away is written, and the detail opens.
        screen.open_detail((Kind.TICKET, "t-wild"))
        await pilot.pause()
    assert app.return_code in (None, 0)

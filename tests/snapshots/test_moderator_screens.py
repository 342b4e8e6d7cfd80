"""Pictures of the moderator's console at 80x24 and 120x40: the table, a filter, the timeline,
the status toggles, the figures, a dropped feed and an empty lobby.

Deterministic: a frozen clock, recorded events (``sample_lobby``), animation and blinking off.
"""

from __future__ import annotations

import pytest
from pilots import settle_replay
from synthetic import sample_lobby

from lobby.core.clock import FrozenClock
from lobby.moderation import Board, ReplaySource
from lobby.core.backend import FeedState
from lobby.tui.moderator.app import ModeratorApp

T0 = 1_767_268_800.0  # 2026-01-01 12:00:00 UTC
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


def moderator(events=None, *, history: bool = False, **source):
    replay = ReplaySource(
        sample_lobby(T0) if events is None else events, description="emulator at http://127.0.0.1:8000", **source
    )
    board = Board()
    if history:  # the queue as it was sampled over the last minute
        for step, depth in enumerate((2, 3, 5, 4, 6, 9, 12, 10, 8, 9, 11, 7)):
            board.stats.sample_depth(T0 - 60 + step * 5, depth)
    return ModeratorApp(replay, clock=FrozenClock(T0), board=board, still=True), replay


@pytest.mark.parametrize("size", SIZES)
def test_moderator_table(snap_compare, size):
    app, replay = moderator()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle_replay(replay))


@pytest.mark.parametrize("size", SIZES)
def test_moderator_filter(snap_compare, size):
    app, replay = moderator()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle_replay(replay, "slash", *"owl"))


@pytest.mark.parametrize("size", SIZES)
def test_moderator_timeline(snap_compare, size):
    app, replay = moderator()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle_replay(replay, "down", "down", "enter"))


def test_moderator_status_toggles(snap_compare):
    app, replay = moderator()
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=settle_replay(replay, "t", "down", "space"))


@pytest.mark.parametrize("size", SIZES)
def test_moderator_stats_header(snap_compare, size):
    """Finished rows shown (f), sorted by status, with a queue history for the sparkline."""
    app, replay = moderator(history=True)
    keys = ("f", "less_than_sign", "less_than_sign")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle_replay(replay, *keys))


@pytest.mark.parametrize("size", SIZES)
def test_moderator_reconnecting(snap_compare, size):
    app, replay = moderator(state=FeedState.RECONNECTING)
    replay.last_event_id = 4182  # type: ignore[attr-defined]
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle_replay(replay))


@pytest.mark.parametrize("size", SIZES)
def test_moderator_empty(snap_compare, size):
    app, replay = moderator(events=[])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=settle_replay(replay))

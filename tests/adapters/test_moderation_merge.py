"""Several feeds as one (:class:`MergedSource`): every event of every feed, each feed asked for
its next batch only once the previous one was applied, a failed feed said and the others kept."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence

import pytest
from synthetic import flexmatch_event

from lobby.core.backend import FeedState
from lobby.core.errors import NotConfigured
from lobby.flexmatch.lifecycle import EventType
from lobby.moderation import Board, ModEvent, ReplaySource, unwrap
from lobby.moderation.merge import MergedSource
from lobby.moderation.rejects import RejectLog
from lobby.moderation.sources import REPLAY_BATCH

T0 = 1_767_268_800.0
HANG = 10  # a guard against hangs only


def searching(name: str, n: int, region: str) -> ModEvent:
    ticket = (f"t-{name}-{n}", T0 + n, [(f"{name}{n}", None, None)])
    event = flexmatch_event(EventType.SEARCHING, uid=f"eb-{name}-{n}", time=T0 + n, tickets=[ticket])
    event["region"] = region
    made = unwrap(event)
    assert made is not None
    return made


class Counting:
    """A feed of one event per batch that records, at each request for a batch, how many of its
    events were applied."""

    def __init__(self, board: Board, events: list[ModEvent], *, fail: bool = False) -> None:
        self.board = board
        self.items = events
        self.fail = fail
        self.description = "counting feed"
        self.state = FeedState.LIVE
        self.rejects = RejectLog()
        self.last_event_id: int | None = None
        self.clock = None
        self.asked_with_applied: list[int] = []

    async def batches(self) -> AsyncGenerator[Sequence[ModEvent], None]:
        for n, event in enumerate(self.items):
            self.asked_with_applied.append(sum(1 for e in self.items[:n] if self.board.seen(e.uid)))
            await asyncio.sleep(0)
            yield (event,)
        if self.fail:
            raise NotConfigured("There is no such queue.")

    async def aclose(self) -> None:
        self.state = FeedState.CLOSED


async def drain(source: MergedSource, board: Board) -> None:
    async with asyncio.timeout(HANG):
        async with contextlib.aclosing(source.batches()) as stream:
            async for batch in stream:
                await asyncio.sleep(0)  # the others run meanwhile
                board.apply_all(batch)


async def test_every_event_of_every_feed_is_applied_once_and_each_feed_waits_for_its_own():
    board = Board()
    east = Counting(board, [searching("east", n, "us-east-1") for n in range(20)])
    west = Counting(board, [searching("west", n, "eu-west-1") for n in range(20)] + [searching("east", 0, "us-east-1")])
    merged = MergedSource([east, west])
    assert east.rejects is west.rejects is merged.rejects
    await drain(merged, board)
    assert (board.applied, board.duplicates) == (40, 1)
    assert merged.taken == [20, 21]
    # A feed was asked for an event only once every one it had given before was applied.
    assert east.asked_with_applied == list(range(20))
    assert west.asked_with_applied[:20] == list(range(20))
    assert board.region_names == ["eu-west-1", "us-east-1"]


async def test_a_failed_feed_is_said_and_the_others_go_on_until_every_feed_failed():
    board = Board()
    broken = Counting(board, [searching("gone", 0, "eu-west-1")], fail=True)
    replay = ReplaySource([searching("east", n, "us-east-1") for n in range(5)], hold=False)
    merged = MergedSource([broken, replay])
    await drain(merged, board)
    assert board.applied == 6 and list(merged.failed) == [0]
    assert [note for note in merged.rejects.notes if "stopped" in note] == [
        "The feed counting feed stopped: There is no such queue. The other feeds go on."
    ]
    assert merged.state is FeedState.CLOSED  # the replay ended, the other failed
    both = MergedSource([Counting(Board(), [], fail=True), Counting(Board(), [], fail=True)])
    with pytest.raises(NotConfigured):
        await drain(both, Board())


async def test_a_batch_passes_whole_and_a_recording_hands_over_at_most_its_batch_at_a_time():
    board = Board()
    replay = ReplaySource([searching("east", n, "us-east-1") for n in range(2 * REPLAY_BATCH + 50)], hold=False)
    merged = MergedSource([replay])
    sizes = []
    async with asyncio.timeout(HANG):
        async with contextlib.aclosing(merged.batches()) as stream:
            async for batch in stream:
                sizes.append(len(batch))
                board.apply_all(batch)
    assert sizes == [REPLAY_BATCH, REPLAY_BATCH, 50]
    assert merged.taken == [2 * REPLAY_BATCH + 50] and board.applied == 2 * REPLAY_BATCH + 50

"""The adapters against an emulator restarted on a fresh database at the same address: its event
ids count afresh, so the adapters must read the new instance from its first event instead of
skipping as many as they had seen of the old one. Both take the instance from their handshake,
so even a restart between the handshake and the first stream connection is caught."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lobby.cli.profiles import flexmatch_backend as open_backend
from lobby.core.events import EventSource
from lobby.core.offers import OfferUpdated
from lobby.core.backend import FeedState
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.flexmatch.lifecycle import TicketStatus
from lobby.teambattles import feed
from test_flexmatch_adapter import profile_for, propose_duel, wait_status

#: A guard against hangs only; nothing asserts on elapsed time.
HANG = 30


async def _start(db: Path, port: int = 0) -> EmulatorThread:
    return await asyncio.to_thread(EmulatorThread(EmulatorConfig(db=str(db)), port=port).start)


def _port(emu: EmulatorThread) -> int:
    return int(emu.url.rsplit(":", 1)[1])


async def test_flexmatch_sync_reads_a_fresh_database_from_its_first_event(tmp_path: Path) -> None:
    old = await _start(tmp_path / "a.db")
    emus = [old]
    try:
        backend = await open_backend(profile_for(old.url, ["alice"]))
        async with backend:
            for _ in range(6):  # the old instance gets well ahead of the new one
                await propose_duel(backend)
            await backend.sync()
            old_last, old_instance = backend.last_event_id, backend.feed_instance
            assert old_last == old.runtime.events.last_id() and old_instance == old.runtime.events.instance

            await asyncio.to_thread(old.stop)
            new = await _start(tmp_path / "b.db", _port(old))
            emus.append(new)
            _, mine, _ = await propose_duel(backend)
            await wait_status(backend.client, mine, TicketStatus.REQUIRES_ACCEPTANCE)
            assert new.runtime.events.last_id() < old_last  # each of its events at an id already passed

            async with asyncio.timeout(HANG):
                await backend.sync()
            assert backend.feed_instance == new.runtime.events.instance != old_instance
            assert backend.last_event_id == new.runtime.events.last_id()
            assert mine in [o.id for o in await backend.list_offers()]
    finally:
        for emu in emus[1:]:
            await asyncio.to_thread(emu.stop)


async def test_flexmatch_changes_resync_when_the_restart_comes_before_the_stream_connects(
    tmp_path: Path,
) -> None:
    """The backend synced against the old instance; the emulator restarts on a fresh database
    before the stream is first connected: the first connection already names the old instance,
    so the new one is read from its first event, and the backend counts afresh too."""
    old = await _start(tmp_path / "a.db")
    emus = [old]
    try:
        backend = await open_backend(profile_for(old.url, ["alice"]))
        async with backend:
            backend._feed_backoff = 0.05
            for _ in range(6):  # well ahead of the new instance
                await propose_duel(backend)
            await backend.list_offers()  # synced: the next changes() goes straight to the stream
            old_last = backend.last_event_id

            await asyncio.to_thread(old.stop)
            new = await _start(tmp_path / "b.db", _port(old))
            emus.append(new)
            _, mine, theirs = await propose_duel(backend)
            await wait_status(backend.client, mine, TicketStatus.REQUIRES_ACCEPTANCE)
            assert new.runtime.events.last_id() < old_last

            changes = backend.changes()
            async with asyncio.timeout(HANG):
                change = await anext(changes)
            await changes.aclose()
            assert isinstance(change, OfferUpdated) and change.offer.id == mine
            assert int(change.event_id or 0) <= new.runtime.events.last_id() < old_last
            assert backend.feed_instance == new.runtime.events.instance
            assert backend.last_event_id <= new.runtime.events.last_id()
    finally:
        for emu in emus[1:]:
            await asyncio.to_thread(emu.stop)


async def test_teambattles_follow_resyncs_when_the_restart_comes_after_its_handshake(tmp_path: Path) -> None:
    """``follow`` takes the stream's position from the handshake, then lets the caller catch
    up (``before``), then connects: an emulator restarted on a fresh database in between is
    read from its first event, not from the old instance's position."""
    old = await _start(tmp_path / "a.db")
    for i in range(50):
        old.runtime.events.append(EventSource.TEAMBATTLES, "match.updated", {"data": {"old": i}})
    old_last = old.runtime.events.last_id()
    emus = [old]
    new_last = 0

    async def restart() -> None:
        nonlocal new_last
        await asyncio.to_thread(old.stop)
        new = await _start(tmp_path / "b.db", _port(old))
        emus.append(new)
        new_last = new.runtime.events.append(EventSource.TEAMBATTLES, "match.updated", {"data": {"new": 1}})

    states: list[FeedState] = []
    got: list[feed.Event] = []
    events = feed.follow(old.url, before=restart, on_state=states.append)
    try:
        async with asyncio.timeout(HANG):
            async for event in events:
                got.append(event)
                if int(event.id) == new_last:
                    break
    finally:
        await events.aclose()
        for emu in emus[1:]:
            await asyncio.to_thread(emu.stop)
    assert 0 < new_last < old_last
    ids = [int(e.id) for e in got]
    assert ids == sorted(ids) and ids[-1] == new_last and ids[0] <= new_last
    assert FeedState.LIVE in states

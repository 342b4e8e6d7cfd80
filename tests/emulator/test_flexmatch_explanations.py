"""Why no match, in the moderator's timeline: the emulator puts its own explanation of a ticket
left searching on its event stream (rate-limited, never among GameLift's events), and the
moderator's board following that stream shows it on the ticket's timeline."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re

import pytest
from flexmatch_helpers import SKILL_RULES, advance, config_for, gamelift, gamelift_events, statuses

from lobby.emulator.flexmatch.scheduler import EXPLAIN_EVERY
from lobby.flexmatch.lifecycle import EMULATOR_EVENT_SOURCE, EXPLANATION_EVENT
from lobby.moderation import Board, EmulatorSource
from lobby.moderation.rows import Kind

HANG = 20  # a guard against hangs only

#: The expansion comes later here (40 s), so a ticket is held back long enough to be explained again.
RULES = {
    **SKILL_RULES,
    "expansions": [{"target": "rules[FairSkill].maxDistance", "steps": [{"waitTimeSeconds": 40, "value": 600}]}],
}


@pytest.fixture
def emulator_config(tmp_path):
    return config_for(tmp_path)


def explanations(emulator, ticket_id: str) -> list[dict]:
    return [
        e.payload
        for e in emulator.runtime.events.since(0, limit=10_000, sources=[EMULATOR_EVENT_SOURCE])
        if e.payload["detail"]["tickets"][0]["ticketId"] == ticket_id
    ]


def far_apart(emulator) -> None:
    gl = gamelift(emulator.url)
    gl.create_matchmaking_rule_set(Name="why-rules", RuleSetBody=json.dumps(RULES))
    gl.create_matchmaking_configuration(
        Name="why", RuleSetName="why-rules", RequestTimeoutSeconds=600, AcceptanceRequired=False,
        FlexMatchMode="STANDALONE",
    )  # fmt: skip
    # high first: low is never looked at alone, so what holds it back is the rule
    for ticket, player, skill in (("high", "p-high", 1000), ("low", "p-low", 0)):
        gl.start_matchmaking(
            TicketId=ticket, ConfigurationName="why",
            Players=[{"PlayerId": player, "PlayerAttributes": {"skill": {"N": skill}}}],
        )  # fmt: skip


def test_a_ticket_held_back_by_a_rule_is_explained_on_the_stream_not_among_gamelifts_events(emulator):
    far_apart(emulator)
    advance(emulator)
    advance(emulator, 5)
    (said, *_) = explanations(emulator, "low")
    assert said["source"] == "aws.gamelift" and said["detail-type"] != "GameLift Matchmaking Event"
    assert said["resources"] == ["arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/why"]
    detail = said["detail"]
    assert detail["type"] == EXPLANATION_EVENT and detail["heldBackBy"] == ["FairSkill"]
    (rule,) = detail["rules"]
    assert rule["ruleName"] == "FairSkill" and rule["failedCount"] >= 1 and detail["reasons"]
    assert all(e["detail"]["type"] != EXPLANATION_EVENT for e in gamelift_events(emulator))


def test_explanations_are_rate_limited_and_stop_once_the_ticket_matches(emulator):
    far_apart(emulator)
    advance(emulator)
    for _ in range(12):  # each step starts a pass: the ticket is looked at again (a new ticket)
        advance(emulator, 2)
        gamelift(emulator.url).start_matchmaking(
            TicketId=f"x{_}", ConfigurationName="why",
            Players=[{"PlayerId": f"px{_}", "PlayerAttributes": {"skill": {"N": 500 + 100 * _}}}],
        )  # fmt: skip
    advance(emulator)
    told = explanations(emulator, "low")
    # 24 s and 13 passes: at most one explanation per EXPLAIN_EVERY seconds
    assert 1 <= len(told) <= 24 // EXPLAIN_EVERY + 1
    advance(emulator, 30)  # 40 s of wait: the expansion lets low match
    assert statuses(gamelift(emulator.url), "low")["low"] == "COMPLETED"
    count = len(explanations(emulator, "low"))
    advance(emulator, 30)
    assert len(explanations(emulator, "low")) == count


async def test_the_moderators_timeline_shows_which_rule_holds_the_ticket_back(emulator):
    await asyncio.to_thread(far_apart, emulator)
    board = Board()
    source = EmulatorSource(emulator.url)

    async def follow() -> None:
        async with contextlib.aclosing(source.batches()) as batches:
            async for batch in batches:
                board.apply_all(batch)

    task = asyncio.create_task(follow())
    try:
        await asyncio.to_thread(advance, emulator)
        await asyncio.to_thread(advance, emulator, 5)
        last = await asyncio.to_thread(emulator.runtime.events.last_id)
        async with asyncio.timeout(HANG):
            while board.applied + board.ignored < last:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    entries = board.timeline((Kind.TICKET, "low"))
    assert [e.type for e in entries][:1] == ["MatchmakingSearching"]
    (why,) = [e for e in entries if e.type == EXPLANATION_EVENT]
    assert re.fullmatch(r"Still searching: held back by FairSkill \(\d+ passed, [1-9]\d* failed\)\.", why.text), why.text
    assert board.get((Kind.TICKET, "low")).status == "SEARCHING"

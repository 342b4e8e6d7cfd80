"""Answers leave here: each draft checked once, then sent with only the round trips it needs.

A send asks the :class:`~lobby.teambattles.desk.Desk` for the facts of the draft's team (read
already when the form showed them), judges the draft once with the shared rules, and makes one
request: the acceptance of an open match, or the roster that takes up a challenge. A draft that
breaks a rule the client can judge is not sent; the error lists every problem in words. The
service remains the judge of the rest, and of anything that changed since the facts were read.

Each submission carries one Idempotency-Key, reused on retries; a submission that failed
without an answer may have been applied, so its key is remembered until the same request is
sent again (the service then replays its answer instead of refusing a second request, and the
acceptance id is not lost). A request the service accepted is recorded in my requests.
"""

from __future__ import annotations

import json

from lobby.core.answers import AcceptanceDraft, Violation
from lobby.core.errors import BackendError, InvalidRequest
from lobby.teambattles import rules
from lobby.teambattles import wire as m
from lobby.teambattles.client import TeamBattlesClient, new_idempotency_key
from lobby.teambattles.desk import Desk, Prepared
from lobby.teambattles.matches import (
    acceptance_body,
    challenge_body,
    describe_violations,
    judge_refusal,
)
from lobby.teambattles.request_book import MyRequests
from lobby.teambattles.requests import AcceptanceRecord
from lobby.teambattles.vocab import REASON_MAX_LENGTH


def _refused(violations: list[Violation]) -> InvalidRequest:
    return InvalidRequest(describe_violations(violations), code=str(violations[0].code))


class Sender:
    """Checks and sends answers for one API key, and records the requests it sent."""

    def __init__(self, client: TeamBattlesClient, desk: Desk, requests: MyRequests) -> None:
        self._client = client
        self._desk = desk
        self._requests = requests
        #: Idempotency keys of submissions whose outcome is unknown, by match and body.
        self._unsettled: dict[tuple[str, str], str] = {}

    async def _checked(self, match_id: str, draft: AcceptanceDraft) -> Prepared:
        ready = await self._desk.prepare(match_id, draft)
        violations = ready.violations()
        if violations:
            raise _refused(violations)
        return ready

    async def send(self, match_id: str, draft: AcceptanceDraft) -> AcceptanceRecord | None:
        """Answer ``match_id`` with ``draft``: a request to play an open match (its record is
        returned) or the roster that takes up a challenge (None)."""
        ready = await self._checked(match_id, draft)
        if ready.match.challenged_team is not None:
            await self._take_up(ready)
            return None
        return await self._request(ready)

    async def submit(self, match_id: str, draft: AcceptanceDraft) -> AcceptanceRecord:
        """Check and send a request to play an open match, and remember it."""
        ready = await self._checked(match_id, draft)
        challenged = ready.match.challenged_team
        if challenged is not None:
            raise InvalidRequest(
                f"Match {match_id} is a direct challenge to {challenged.name}; "
                "it is answered by accepting or refusing the challenge, not with a request."
            )
        return await self._request(ready)

    async def accept_challenge(self, match_id: str, draft: AcceptanceDraft) -> None:
        """Take up a direct challenge to my team with the draft's roster."""
        ready = await self._checked(match_id, draft)
        if ready.match.challenged_team is None:
            raise InvalidRequest(f"Match {match_id} is an open match, not a challenge.")
        await self._take_up(ready)

    async def _take_up(self, ready: Prepared) -> None:
        try:
            await self._client.accept_challenge(ready.match.id, challenge_body(ready.draft))
        except BackendError as error:
            self._desk.refused(ready.facts.team.id, error)
            raise

    async def _request(self, ready: Prepared) -> AcceptanceRecord:
        match_id, draft = ready.match.id, ready.draft
        body = acceptance_body(draft)
        payload = body.wire()
        same = (match_id, json.dumps(payload, sort_keys=True))
        key = self._unsettled.pop(same, None) or new_idempotency_key()
        try:
            answer = await self._client.create_acceptance(match_id, body, idempotency_key=key)
        except BackendError as error:
            if error.retryable:
                self._unsettled[same] = key
            self._desk.refused(ready.facts.team.id, error)
            raise
        return await self._requests.add(
            AcceptanceRecord(
                acceptance_id=answer.acceptance_id,
                match_id=match_id,
                team_id=draft.team_id,
                payload=payload,
                submitted_at=self._client.now(),
                idempotency_key=key,
            )
        )

    async def refuse(self, match_id: str, reason: str | None) -> None:
        """Refuse a direct challenge to my team, with an optional reason."""
        problems = rules.rule_message(reason, field="reason", limit=REASON_MAX_LENGTH)
        if problems:
            raise _refused(problems)
        match = await self._desk.match(match_id)
        if match.challenged_team is None:
            raise InvalidRequest(
                f"Match {match_id} is an open match, not a challenge: there is nothing to refuse. "
                "Leave it unanswered."
            )
        ready = await self._desk.prepare(match_id, AcceptanceDraft(match.challenged_team.id, ()))
        problems = judge_refusal(ready.facts)
        if problems:
            raise _refused(problems)
        await self._client.refuse_challenge(match_id, m.RefuseChallengeRequestBody(reason=reason))

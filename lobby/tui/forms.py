"""The TeamBattles form's logic, free of widgets: which teams may answer, and what is wrong.

The checks are the shared domain rules (the very functions the emulator enforces), given the
facts the backend gathered; the form runs them on every change, so each violation is explained
before anything is sent.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Protocol, runtime_checkable

from lobby.teambattles import rules


@runtime_checkable
class AcceptanceFactsSource(Protocol):
    """A backend that can describe, for one match, each team of mine that could answer it."""

    async def acceptance_facts(self, match_id: str) -> list[rules.AcceptanceFacts]: ...


def problems(
    draft: rules.AcceptanceDraft, facts: rules.AcceptanceFacts, now: datetime
) -> list[rules.Violation]:
    """Every rule ``draft`` breaks for this team and match at ``now``.

    What the client cannot judge fairly is left to the service: leadership when it does not
    know who the key belongs to, and the roster when the team's members are hidden from it.
    """
    facts = dataclasses.replace(facts, now=now)
    if facts.match.is_challenge:
        found = rules.check_challenge_response(facts.owner_id, draft.roster, facts.match, facts.team, now)
    else:
        found = rules.check_acceptance(draft, facts)
    out = []
    for v in found:
        if v.code == rules.ErrorCode.NOT_TEAM_LEADER and not facts.owner_id:
            continue
        if not facts.team.members and v.field in ("activeRoster", "benchRoster"):
            continue
        out.append(v)
    return out

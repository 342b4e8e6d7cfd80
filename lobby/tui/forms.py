"""The TeamBattles form's state, free of widgets: the teams it offers and what is wrong.

Everything service-specific comes from the backend's acceptance desk
(:attr:`lobby.core.backend.Capabilities.acceptance`): the facts of the match for each team that
could answer it, the teams to offer, and the violations the client can judge, from the very rule
functions the service's emulator enforces. The form asks for them on every change, so each
violation is explained before anything is sent.
"""

from __future__ import annotations

from datetime import datetime

from lobby.core.answers import AcceptanceDraft, AcceptanceFacts, Violation
from lobby.core.backend import AcceptanceDesk

#: The request field the rules name when what is wrong is the team itself (banned, the match's
#: creator, another game...), whoever is on its roster.
TEAM_FIELD = "teamId"


class AcceptanceForm:
    """The teams one match may be answered for, and the violations of a draft."""

    def __init__(self, desk: AcceptanceDesk | None) -> None:
        self.desk = desk
        #: The teams offered, by id, in the order to offer them.
        self.teams: dict[str, AcceptanceFacts] = {}

    async def load(self, match_id: str) -> str | None:
        """Learn the teams offered for ``match_id``; a sentence saying why none can be, or None.

        The backend's own failure is raised as it is (a BackendError)."""
        if self.desk is None:
            return "This backend cannot describe your teams, so the form cannot be filled in here."
        found = await self.desk.acceptance_facts(match_id)
        self.teams = {f.team.id: f for f in self.desk.offered(found)}
        return None

    def team_problems(self, team_id: str, now: datetime) -> list[Violation]:
        """Why ``team_id`` cannot answer at all, whoever is on its roster: the rules the desk
        applies to a draft for it, those about the team itself (empty when it can)."""
        draft = AcceptanceDraft.build(team_id, ())
        return [v for v in self.problems(draft, now) if v.field == TEAM_FIELD]

    def problems(self, draft: AcceptanceDraft, now: datetime) -> list[Violation]:
        """Every rule ``draft`` breaks for its team and the match at ``now``."""
        facts = self.teams.get(draft.team_id)
        if self.desk is None or facts is None:
            return []
        return self.desk.violations(draft, facts, now)



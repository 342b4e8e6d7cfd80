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

    def problems(self, draft: AcceptanceDraft, now: datetime) -> list[Violation]:
        """Every rule ``draft`` breaks for its team and the match at ``now``."""
        facts = self.teams.get(draft.team_id)
        if self.desk is None or facts is None:
            return []
        return self.desk.violations(draft, facts, now)



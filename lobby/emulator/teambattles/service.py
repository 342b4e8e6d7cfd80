"""The emulated TeamBattles service: its parts put together.

Routes (and the demo bots) call the parts with the acting user, who is always the owner of the
API key. Each change happens in one store transaction together with the event that announces
it on the emulator's stream. Rules come from :mod:`lobby.teambattles.rules`.

- :mod:`.lookups`: rows by id, who may see what, and the facts the rules decide on;
- :mod:`.projections`: rows in the contract's shapes;
- :mod:`.reads`: the listings (discover, a user's matches, ongoing matches, a user's teams);
- :mod:`.acceptances`: acceptance requests and direct challenges;
- :mod:`.matches`: creating, publishing and cancelling matches, and their start;
- :mod:`.webhooks`: the events of every change.
"""

from __future__ import annotations

from lobby.emulator.runtime import Runtime
from lobby.emulator.teambattles.acceptances import Acceptances
from lobby.emulator.teambattles.lookups import Lookups
from lobby.emulator.teambattles.matches import Matches
from lobby.emulator.teambattles.projections import Projections
from lobby.emulator.teambattles.reads import Reads
from lobby.emulator.teambattles.scenario import TeamBattlesScenario
from lobby.emulator.teambattles.webhooks import Webhooks


class TeamBattles:
    def __init__(self, runtime: Runtime, scenario: TeamBattlesScenario) -> None:
        self.runtime = runtime
        self.store = store = runtime.store
        self.scenario = scenario
        clock = runtime.clock
        self.lookups = lookups = Lookups(store)
        self.projections = projections = Projections(store, lookups)
        self.reads = Reads(store, clock, lookups, projections)
        self.webhooks = webhooks = Webhooks(store, clock, runtime.events, projections)
        self.acceptances = Acceptances(store, clock, runtime.poke, lookups, projections, webhooks)
        self.matches = Matches(store, clock, runtime.poke, lookups, webhooks)

    def now(self) -> float:
        return self.runtime.clock.timestamp()

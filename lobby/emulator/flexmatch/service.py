"""The emulated FlexMatch service: its parts put together, and the one entry point of its
operations.

:class:`FlexMatchService` is the one way FlexMatch state changes. The HTTP protocols (JSON 1.1,
RPC v2 CBOR) and the demo bots all go through :meth:`FlexMatchService.invoke`, so a request
from any of them is checked against the same model and follows the same rules.

The parts, each in its own module:

- :mod:`.configurations`: the rule set and configuration operations;
- :mod:`.matchmaking`: the ticket operations (start, describe, stop, accept);
- :mod:`.lifecycle`: moving one ticket, through :func:`lobby.flexmatch.lifecycle.transition`;
- :mod:`.matches`: proposed matches, their acceptance rounds (:mod:`.rounds`), and how they end;
- :mod:`.placement`: the game session of an accepted match;
- :mod:`.scheduler`: what is due when, and the matchmaker (:mod:`.matchmaker`) runs;
- :mod:`.catalog`, :mod:`.records`, :mod:`.rendering`, :mod:`.names`, :mod:`.paging`,
  :mod:`.agenda`: what they share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lobby.emulator.flexmatch import notifications as ev
from lobby.emulator.flexmatch.agenda import Agenda
from lobby.emulator.flexmatch.catalog import Catalog
from lobby.emulator.flexmatch.configurations import Configurations
from lobby.emulator.flexmatch.errors import UnknownOperationException
from lobby.emulator.flexmatch.lifecycle import Lifecycle
from lobby.emulator.flexmatch.matches import Matches
from lobby.emulator.flexmatch.matchmaking import Matchmaking
from lobby.emulator.flexmatch.model import ServiceModel
from lobby.emulator.flexmatch.names import Arns, in_region
from lobby.emulator.flexmatch.placement import Placement
from lobby.emulator.flexmatch.rounds import Rounds
from lobby.emulator.flexmatch.scenario import FlexMatchScenario
from lobby.emulator.flexmatch.scheduler import Scheduler
from lobby.emulator.flexmatch.schema import COMPONENT, MIGRATIONS
from lobby.emulator.runtime import Runtime


class FlexMatchService:
    def __init__(self, runtime: Runtime, scenario: FlexMatchScenario, model: ServiceModel) -> None:
        self.runtime = runtime
        self.store = store = runtime.store
        self.clock = runtime.clock
        self.scenario = scenario
        self.model = model
        self.arns = arns = Arns(runtime.config.region, runtime.config.account_id)
        notifier = ev.Notifier(runtime.events, account=arns.account)
        self.store.migrate(COMPONENT, MIGRATIONS)
        self.catalog = catalog = Catalog(store)
        self.rounds = rounds = Rounds(store)
        self.agenda = agenda = Agenda(store, runtime.poke)
        #: Jobs run after each matchmaker pass (the demo bots); each returns its next due time.
        self.after_tick = agenda.jobs
        lifecycle = Lifecycle(catalog, rounds, agenda, notifier, arns)
        matches = Matches(store, scenario, catalog, rounds, agenda, lifecycle, notifier, arns)
        placement = Placement(
            scenario, runtime.config.public_host, catalog, lifecycle, matches, notifier, arns
        )
        self.scheduler = Scheduler(store, catalog, rounds, agenda, lifecycle, matches, placement)
        setup = Configurations(store, self.clock, catalog, agenda, arns)
        tickets = Matchmaking(
            store, self.clock, scenario, catalog, rounds, agenda, lifecycle, matches, arns
        )
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "CreateMatchmakingRuleSet": setup.create_rule_set,
            "DescribeMatchmakingRuleSets": setup.describe_rule_sets,
            "ValidateMatchmakingRuleSet": setup.validate_rule_set,
            "DeleteMatchmakingRuleSet": setup.delete_rule_set,
            "CreateMatchmakingConfiguration": setup.create_configuration,
            "DescribeMatchmakingConfigurations": setup.describe_configurations,
            "UpdateMatchmakingConfiguration": setup.update_configuration,
            "DeleteMatchmakingConfiguration": setup.delete_configuration,
            "StartMatchmaking": tickets.start_matchmaking,
            "DescribeMatchmaking": tickets.describe_matchmaking,
            "StopMatchmaking": tickets.stop_matchmaking,
            "AcceptMatch": tickets.accept_match,
        }
        missing = set(model.operations) - set(self.handlers)
        if missing:  # the packaged model and this module must agree
            raise RuntimeError(f"no handler for {sorted(missing)}")

    def invoke(self, operation: str, params: Any, region: str | None = None) -> dict[str, Any]:
        """Check ``params`` against the model, then run the operation in ``region`` (the one
        the request was signed for; None: the emulator's own). Raises GameLiftError."""
        handler = self.handlers.get(operation)
        if handler is None:
            raise UnknownOperationException(f"GameLift has no operation named {operation!r}.")
        self.model.check_input(operation, params)
        with in_region(region):
            return handler(params)

    def tick(self, now: float) -> float | None:
        """Do everything due at ``now``; return when something is next due (None: nothing)."""
        return self.scheduler.tick(now)

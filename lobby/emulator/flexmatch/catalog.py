"""Rule sets and matchmaking configurations as stored, read through a cache that every writer
of ``fm_rule_sets`` and ``fm_configurations`` keeps current."""

from __future__ import annotations

from lobby.emulator.flexmatch.records import Config
from lobby.flexmatch.ruleset import RuleSet, parse_rule_set
from lobby.emulator.store import Store


class Catalog:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._rule_sets: dict[str, RuleSet] = {}
        self._configs: dict[str, Config] = {}

    # --- rule sets -----------------------------------------------------------------------------

    def rule_set(self, name: str) -> RuleSet | None:
        cached = self._rule_sets.get(name)
        if cached is None:
            row = self.store.query_one("SELECT body FROM fm_rule_sets WHERE name=?", (name,))
            if row is None:
                return None
            cached = self._rule_sets[name] = parse_rule_set(row[0])
        return cached

    def remember_rule_set(self, name: str, parsed: RuleSet) -> None:
        self._rule_sets[name] = parsed

    def forget_rule_set(self, name: str) -> None:
        self._rule_sets.pop(name, None)

    # --- configurations ------------------------------------------------------------------------

    def configuration(self, name: str) -> Config | None:
        """A configuration as stored (cached; every writer of fm_configurations refreshes it)."""
        cached = self._configs.get(name)
        if cached is not None:
            return cached
        row = self.store.query_one(
            "SELECT name, rule_set_name, settings, creation_time, wait_estimate"
            " FROM fm_configurations WHERE name=?",
            (name,),
        )
        if row is None:
            return None
        config = self._configs[name] = Config.from_row(row)
        return config

    def forget_config(self, name: str) -> None:
        """Drop the cached copy once the transaction that changed the row has ended."""
        self._configs.pop(name, None)
        self.store.after_commit(lambda: self._configs.pop(name, None))

    def config_for(self, name: str) -> Config:
        config = self.configuration(name)
        if config is None:  # pragma: no cover - deletion is refused while tickets are active
            raise RuntimeError(f"configuration {name} vanished under active tickets")
        return config

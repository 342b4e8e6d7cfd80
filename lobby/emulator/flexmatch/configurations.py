"""The operations on rule sets and matchmaking configurations: create, describe, validate,
update and delete."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

from lobby.core.clock import Clock
from lobby.emulator.flexmatch.agenda import Agenda
from lobby.emulator.flexmatch.catalog import Catalog
from lobby.emulator.flexmatch.errors import InvalidRequestException, NotFoundException
from lobby.emulator.flexmatch.names import Arns, dedupe
from lobby.emulator.flexmatch.paging import MAX_PAGE, page_of, read_token
from lobby.emulator.flexmatch.records import Config
from lobby.emulator.flexmatch.rendering import render_config, render_rule_set
from lobby.flexmatch.ruleset import RuleSetInvalid, parse_rule_set
from lobby.emulator.store import Store
from lobby.flexmatch.lifecycle import TicketStatus

ACTIVE_STATUSES = tuple(s.value for s in TicketStatus if s.active)
_ACTIVE_SQL = ",".join(f"'{s}'" for s in ACTIVE_STATUSES)


@dataclass(slots=True)
class Configurations:
    store: Store
    clock: Clock
    catalog: Catalog
    agenda: Agenda
    arns: Arns

    # --- rule sets -----------------------------------------------------------------------------

    def create_rule_set(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["Name"]
        if not name:
            raise InvalidRequestException("Name must not be empty.")
        key = self.arns.key(name)
        try:
            parsed = parse_rule_set(p["RuleSetBody"])
        except RuleSetInvalid as exc:
            raise InvalidRequestException(str(exc)) from None
        now = self.clock.timestamp()
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM fm_rule_sets WHERE name=?", (key,)).fetchone():
                raise InvalidRequestException(f"A matchmaking rule set named {name} already exists.")
            db.execute(
                "INSERT INTO fm_rule_sets (name, body, creation_time) VALUES (?, ?, ?)",
                (key, p["RuleSetBody"], now),
            )
        self.catalog.remember_rule_set(key, parsed)
        return {"RuleSet": render_rule_set(self.arns, (key, p["RuleSetBody"], now))}

    def describe_rule_sets(self, p: dict[str, Any]) -> dict[str, Any]:
        limit = p.get("Limit") or MAX_PAGE
        offset = read_token(p.get("NextToken"), "rulesets")
        if p.get("Names"):
            names = dedupe(self.arns.scoped(n, "rule set") for n in p["Names"])
            rows = {
                r[0]: r
                for r in self.store.query(
                    f"SELECT name, body, creation_time FROM fm_rule_sets"
                    f" WHERE name IN ({','.join('?' * len(names))})",
                    names,
                )
            }
            missing = [n for n in names if n not in rows]
            if missing:
                raise NotFoundException(
                    f"No matchmaking rule set named {self.arns.name_of(missing[0])} exists."
                )
            ordered = [rows[n] for n in names]
        else:
            sql, params = self._in_region("SELECT name, body, creation_time FROM fm_rule_sets")
            ordered = self.store.query(sql + " ORDER BY name", params)
        return page_of(ordered, offset, limit, "rulesets", "RuleSets", partial(render_rule_set, self.arns))

    def validate_rule_set(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            parse_rule_set(p["RuleSetBody"])
        except RuleSetInvalid as exc:
            raise InvalidRequestException(str(exc)) from None
        return {"Valid": True}

    def delete_rule_set(self, p: dict[str, Any]) -> dict[str, Any]:
        key = self.arns.scoped(p["Name"], "rule set")
        name = self.arns.name_of(key)
        with self.store.transaction() as db:
            if not db.execute("SELECT 1 FROM fm_rule_sets WHERE name=?", (key,)).fetchone():
                raise NotFoundException(f"No matchmaking rule set named {name} exists.")
            user = db.execute(
                "SELECT name FROM fm_configurations WHERE rule_set_name=? ORDER BY name LIMIT 1",
                (key,),
            ).fetchone()
            if user:
                raise InvalidRequestException(
                    f"Matchmaking rule set {name} is used by configuration"
                    f" {self.arns.name_of(user[0])}; delete or change that configuration first."
                )
            db.execute("DELETE FROM fm_rule_sets WHERE name=?", (key,))
        self.catalog.forget_rule_set(key)
        return {}

    def _in_region(self, sql: str) -> tuple[str, list[Any]]:
        """``sql`` (a SELECT of one resource table) kept to the request's region's rows."""
        prefix = self.arns.prefix()
        if prefix is None:
            return sql + " WHERE instr(name, '/') = 0", []
        return sql + " WHERE substr(name, 1, ?) = ?", [len(prefix), prefix]

    # --- configurations ------------------------------------------------------------------------

    _SETTING_MEMBERS = (
        "Description",
        "GameSessionQueueArns",
        "RequestTimeoutSeconds",
        "AcceptanceTimeoutSeconds",
        "AcceptanceRequired",
        "NotificationTarget",
        "AdditionalPlayerCount",
        "CustomEventData",
        "GameProperties",
        "GameSessionData",
        "BackfillMode",
        "FlexMatchMode",
    )

    def _check_settings(self, s: dict[str, Any]) -> None:
        if s.get("AcceptanceRequired") and s.get("AcceptanceTimeoutSeconds") is None:
            raise InvalidRequestException(
                "AcceptanceTimeoutSeconds is required when AcceptanceRequired is true."
            )
        queues = s.get("GameSessionQueueArns") or []
        if len(queues) > 1:
            raise InvalidRequestException(
                "A matchmaking configuration takes at most one game session queue ARN."
            )
        if s.get("FlexMatchMode") == "STANDALONE":
            if queues:
                raise InvalidRequestException(
                    "GameSessionQueueArns cannot be set when FlexMatchMode is STANDALONE."
                )
            if s.get("BackfillMode") == "AUTOMATIC":
                raise InvalidRequestException(
                    "BackfillMode AUTOMATIC is not available when FlexMatchMode is STANDALONE."
                )

    def _require_rule_set(self, db: Any, value: str) -> str:
        key = self.arns.scoped(value, "rule set")
        if not db.execute("SELECT 1 FROM fm_rule_sets WHERE name=?", (key,)).fetchone():
            raise NotFoundException(f"No matchmaking rule set named {self.arns.name_of(key)} exists.")
        return key

    def create_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["Name"]
        if not name:
            raise InvalidRequestException("Name must not be empty.")
        key = self.arns.key(name)
        settings = {m: p[m] for m in self._SETTING_MEMBERS if p.get(m) is not None}
        settings.setdefault("FlexMatchMode", "WITH_QUEUE")
        if settings["FlexMatchMode"] == "WITH_QUEUE":
            settings.setdefault("BackfillMode", "MANUAL")
            settings.setdefault("AdditionalPlayerCount", 0)
        self._check_settings(settings)
        now = self.clock.timestamp()
        with self.store.transaction() as db:
            rule_set = self._require_rule_set(db, p["RuleSetName"])
            if db.execute("SELECT 1 FROM fm_configurations WHERE name=?", (key,)).fetchone():
                raise InvalidRequestException(
                    f"A matchmaking configuration named {name} already exists."
                )
            db.execute(
                "INSERT INTO fm_configurations (name, rule_set_name, settings, creation_time)"
                " VALUES (?, ?, ?, ?)",
                (key, rule_set, json.dumps(settings), now),
            )
            self.catalog.forget_config(key)
        self.agenda.changed()
        return {"Configuration": render_config(self.arns, Config(key, rule_set, settings, now, None))}

    def describe_configurations(self, p: dict[str, Any]) -> dict[str, Any]:
        limit = p.get("Limit") or MAX_PAGE
        if limit > MAX_PAGE:
            raise InvalidRequestException(f"Limit must be at most {MAX_PAGE}.")
        offset = read_token(p.get("NextToken"), "configurations")
        sql, params = self._in_region(
            "SELECT name, rule_set_name, settings, creation_time, wait_estimate"
            " FROM fm_configurations"
        )
        names: list[str] | None = None
        if p.get("Names"):
            names = dedupe(self.arns.scoped(n, "configuration") for n in p["Names"])
            sql += f" AND name IN ({','.join('?' * len(names))})"
            params += names
        if p.get("RuleSetName"):
            sql += " AND rule_set_name = ?"
            params.append(self.arns.scoped(p["RuleSetName"], "rule set"))
        sql += " ORDER BY name"
        configs = [Config.from_row(r) for r in self.store.query(sql, params)]
        if names is not None:
            order = {n: i for i, n in enumerate(names)}
            configs.sort(key=lambda c: order[c.name])
        return page_of(configs, offset, limit, "configurations", "Configurations", partial(render_config, self.arns))

    def update_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        key = self.arns.scoped(p["Name"], "configuration")
        name = self.arns.name_of(key)
        with self.store.transaction() as db:
            current = self.catalog.configuration(key)
            if current is None:
                raise NotFoundException(f"No matchmaking configuration named {name} exists.")
            settings = dict(current.settings)
            settings.update({m: p[m] for m in self._SETTING_MEMBERS if p.get(m) is not None})
            if settings.get("FlexMatchMode") == "STANDALONE" and "GameSessionQueueArns" not in p:
                settings.pop("GameSessionQueueArns", None)
            self._check_settings(settings)
            rule_set = current.rule_set_name
            if p.get("RuleSetName"):
                rule_set = self._require_rule_set(db, p["RuleSetName"])
            db.execute(
                "UPDATE fm_configurations SET rule_set_name=?, settings=? WHERE name=?",
                (rule_set, json.dumps(settings), key),
            )
            self.catalog.forget_config(key)
            self.agenda.match_soon(key)
            self.agenda.changed()
        updated = Config(key, rule_set, settings, current.creation_time, current.wait_estimate)
        return {"Configuration": render_config(self.arns, updated)}

    def delete_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        key = self.arns.scoped(p["Name"], "configuration")
        name = self.arns.name_of(key)
        with self.store.transaction() as db:
            if not db.execute("SELECT 1 FROM fm_configurations WHERE name=?", (key,)).fetchone():
                raise NotFoundException(f"No matchmaking configuration named {name} exists.")
            busy = db.execute(
                f"SELECT COUNT(*) FROM fm_tickets WHERE config_name=? AND status IN ({_ACTIVE_SQL})",
                (key,),
            ).fetchone()[0]
            if busy:
                raise InvalidRequestException(
                    f"Matchmaking configuration {name} has {busy} active ticket"
                    f"{'s' if busy > 1 else ''}; stop them or let them finish first."
                )
            db.execute("DELETE FROM fm_configurations WHERE name=?", (key,))
            self.catalog.forget_config(key)
        return {}

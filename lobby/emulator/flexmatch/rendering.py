"""Rule sets, configurations and tickets as the GameLift API answers them (names and ARNs
from the emulator's keys: :mod:`.names`)."""

from __future__ import annotations

import json
from typing import Any

from lobby.emulator.flexmatch.names import Arns
from lobby.emulator.flexmatch.records import Config, Ticket
from lobby.flexmatch.lifecycle import TicketStatus

S = TicketStatus


def render_rule_set(arns: Arns, row: Any) -> dict[str, Any]:
    return {
        "RuleSetName": arns.name_of(row[0]),
        "RuleSetArn": arns.rule_set(row[0]),
        "RuleSetBody": row[1],
        "CreationTime": row[2],
    }


def render_config(arns: Arns, c: Config) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": arns.name_of(c.name), "ConfigurationArn": arns.configuration(c.name)}
    out.update(c.settings)
    out["RuleSetName"] = arns.name_of(c.rule_set_name)
    out["RuleSetArn"] = arns.rule_set(c.rule_set_name)
    out["CreationTime"] = c.creation_time
    return out


def render_ticket(arns: Arns, t: Ticket) -> dict[str, Any]:
    out: dict[str, Any] = {
        "TicketId": t.ticket_id,
        "ConfigurationName": arns.name_of(t.config_name),
        "ConfigurationArn": arns.configuration(t.config_name),
        "Status": t.status.value,
        "StartTime": t.start_time,
        "Players": t.players,
    }
    if t.status_reason:
        out["StatusReason"] = t.status_reason
    if t.status_message:
        out["StatusMessage"] = t.status_message
    if t.end_time is not None:
        out["EndTime"] = t.end_time
    if t.connection:
        out["GameSessionConnectionInfo"] = json.loads(t.connection)
    if t.estimate is not None and t.status in (S.QUEUED, S.SEARCHING):
        out["EstimatedWaitTime"] = t.estimate
    return out

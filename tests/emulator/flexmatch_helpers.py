"""Shared helpers for the FlexMatch emulator tests: clients, scenarios, and clock control."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread

#: One keep-alive client for every hand-made request (a new client per call costs tens of ms).
http = httpx.Client(timeout=30)

QUEUE_ARN = "arn:aws:gamelift:us-east-1:123456789012:gamesessionqueue/tests"
JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}

#: 1v1 with a skill distance rule (maxDistance 10) that expands to 600 after 20 s of wait.
SKILL_RULES = {
    "ruleLanguageVersion": "1.0",
    "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
    "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
    "rules": [
        {
            "name": "FairSkill",
            "type": "distance",
            "measurements": ["avg(teams[*].players.attributes[skill])"],
            "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))",
            "maxDistance": 10,
        }
    ],
    "expansions": [{"target": "rules[FairSkill].maxDistance", "steps": [{"waitTimeSeconds": 20, "value": 600}]}],
}


def scenario_file(tmp_path: Path, name: str = "flexmatch-tests", **flexmatch: Any) -> Path:
    """A scenario with nothing seeded and a long placement, so PLACING can be observed."""
    flexmatch.setdefault("placement_seconds", 30.0)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"name": name, "flexmatch": flexmatch}))
    return path


def config_for(tmp_path: Path, **overrides: Any) -> EmulatorConfig:
    flexmatch = overrides.pop("flexmatch", {})
    overrides.setdefault("time_travel", True)
    return EmulatorConfig(scenario=scenario_file(tmp_path, **flexmatch), **overrides)


def gamelift(url: str, region: str = "us-east-1", **kwargs: Any) -> Any:
    """boto3's own GameLift client pointed at the emulator (one attempt, no retries), signing
    for ``region``."""
    return boto3.client(
        "gamelift",
        endpoint_url=url,
        region_name=region,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        **kwargs,
    )


def cbor_gamelift(url: str, models: Path, **kwargs: Any) -> Any:
    """boto3's gamelift client made to prefer Smithy RPC v2 CBOR: botocore's own GameLift model
    with only that protocol listed, placed first on botocore's data path under ``models``."""
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    version = loader.list_api_versions("gamelift", "service-2")[-1]
    model = loader.load_service_model("gamelift", "service-2", version)
    assert "smithy-rpc-v2-cbor" in model["metadata"]["protocols"]
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
    target = models / "gamelift" / version
    target.mkdir(parents=True, exist_ok=True)
    (target / "service-2.json").write_text(json.dumps(model))
    core = botocore.session.get_session()
    core.get_component("data_loader").search_paths.insert(0, str(models))
    session = boto3.Session(botocore_session=core, region_name="us-east-1", **kwargs)
    client = session.client("gamelift", endpoint_url=url, config=Config(retries={"max_attempts": 1}))
    assert client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
    return client


def advance(emu: EmulatorThread, seconds: float = 0.0) -> None:
    """Move the emulator clock forward and let every due job run before returning."""
    r = http.post(emu.url + "/_emulator/clock", json={"advanceSeconds": seconds})
    r.raise_for_status()


def rule_set_body(*teams: tuple[str, int, int] | tuple[str, int, int, int], **extra: Any) -> str:
    body: dict[str, Any] = {"ruleLanguageVersion": "1.0", "teams": []}
    for team in teams:
        entry: dict[str, Any] = {"name": team[0], "minPlayers": team[1], "maxPlayers": team[2]}
        if len(team) == 4:
            entry["quantity"] = team[3]
        body["teams"].append(entry)
    body.update(extra)
    return json.dumps(body)


def setup_matchmaker(
    client: Any,
    name: str = "cfg",
    teams: Iterable[tuple[Any, ...]] = (("red", 1, 1), ("blue", 1, 1)),
    *,
    acceptance: int | None = 60,
    request_timeout: int = 3600,
    standalone: bool = False,
    rules: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A rule set plus a configuration using it; returns the configuration."""
    extra = {"rules": rules} if rules else {}
    client.create_matchmaking_rule_set(Name=f"{name}-rules", RuleSetBody=rule_set_body(*teams, **extra))
    kwargs: dict[str, Any] = {
        "Name": name,
        "RuleSetName": f"{name}-rules",
        "RequestTimeoutSeconds": request_timeout,
        "AcceptanceRequired": acceptance is not None,
    }
    if acceptance is not None:
        kwargs["AcceptanceTimeoutSeconds"] = acceptance
    if standalone:
        kwargs["FlexMatchMode"] = "STANDALONE"
    else:
        kwargs["GameSessionQueueArns"] = [QUEUE_ARN]
    return client.create_matchmaking_configuration(**kwargs)["Configuration"]


def start(client: Any, config: str, ticket_id: str, *players: str) -> dict[str, Any]:
    return client.start_matchmaking(
        TicketId=ticket_id,
        ConfigurationName=config,
        Players=[{"PlayerId": p} for p in players],
    )["MatchmakingTicket"]


def tickets(client: Any, *ids: str) -> dict[str, dict[str, Any]]:
    listed = client.describe_matchmaking(TicketIds=list(ids))["TicketList"]
    return {t["TicketId"]: t for t in listed}


def statuses(client: Any, *ids: str) -> dict[str, str]:
    return {k: v["Status"] for k, v in tickets(client, *ids).items()}


def accept(client: Any, ticket_id: str, *players: str, reject: bool = False) -> None:
    client.accept_match(
        TicketId=ticket_id,
        PlayerIds=list(players),
        AcceptanceType="REJECT" if reject else "ACCEPT",
    )


def gamelift_events(emu: EmulatorThread, after: int = 0) -> list[dict[str, Any]]:
    """The FlexMatch events in the emulator's log, as EventBridge envelopes, in order."""
    return [e.payload for e in emu.runtime.events.since(after, limit=10_000, sources=["aws.gamelift"])]


def detail_types(emu: EmulatorThread, after: int = 0) -> list[str]:
    return [e["detail"]["type"] for e in gamelift_events(emu, after)]


def raw(emu: EmulatorThread, operation: str, body: Any, **headers: str) -> httpx.Response:
    """A hand-made JSON 1.1 call; ``body`` is sent as-is when bytes, else as JSON."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {**JSON_HEADERS, "X-Amz-Target": f"GameLift.{operation}", **headers}
    return http.post(emu.url + "/", content=content, headers=sent)

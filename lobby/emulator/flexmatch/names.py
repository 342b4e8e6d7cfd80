"""The names of FlexMatch resources: their ARNs, and a name given as itself or as its ARN."""

from __future__ import annotations

import uuid
from collections.abc import Iterable


class Arns:
    """The ARNs of this emulated account and region."""

    __slots__ = ("region", "account", "fleet")

    def __init__(self, region: str, account: str) -> None:
        self.region = region
        self.account = account
        self.fleet = "fleet-" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"lobby:{account}"))

    def configuration(self, name: str) -> str:
        return f"arn:aws:gamelift:{self.region}:{self.account}:matchmakingconfiguration/{name}"

    def rule_set(self, name: str) -> str:
        return f"arn:aws:gamelift:{self.region}:{self.account}:matchmakingruleset/{name}"

    def game_session(self, match_id: str) -> str:
        return f"arn:aws:gamelift:{self.region}::gamesession/{self.fleet}/gsess-{match_id}"


def resource_name(value: str) -> str:
    """A resource name, given as itself or as its ARN."""
    return value.rsplit("/", 1)[1] if value.startswith("arn:") else value


def dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

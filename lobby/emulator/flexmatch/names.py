"""The names of FlexMatch resources: their ARNs, the region a request is made in, and a name
given as itself or as its ARN.

GameLift's resources live in a region: a configuration made by a client signed for
``us-west-2`` is ``arn:aws:gamelift:us-west-2:<account>:matchmakingconfiguration/<name>``, and a
client of ``us-east-1`` neither sees it nor may name it. The emulator keeps every region's
resources in the same tables under one *key* per resource: the bare name in the emulator's own
region (``--region``, so a database made before regions mattered reads the same), and
``<region>/<name>`` elsewhere. A slash is in no resource name (their pattern has none), so keys
never collide. Keys stay inside the emulator: what a client sees is the name and the ARN.

The region of a request is the one its SigV4 credential scope names (read by the protocol and
set for the call with :func:`in_region`); a call without one (the demo bots, the scenario seed,
an unsigned request) is made in the emulator's region.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from lobby.emulator.flexmatch.errors import InvalidRequestException, UnsupportedRegionException

#: The shape of an AWS region name (``us-east-1``, ``ap-southeast-2``, ``us-gov-west-1``).
REGION_PATTERN = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
#: An AWS account id.
ACCOUNT_PATTERN = re.compile(r"[0-9]{12}")

_request_region: ContextVar[str | None] = ContextVar("flexmatch_request_region", default=None)


@contextmanager
def in_region(region: str | None) -> Iterator[None]:
    """Run the operations inside in ``region`` (None: the emulator's own). A region that is no
    region name is refused as the service refuses a region it does not serve."""
    if region is not None and not REGION_PATTERN.fullmatch(region):
        raise UnsupportedRegionException(f"GameLift is not available in the region {region!r}.")
    token = _request_region.set(region)
    try:
        yield
    finally:
        _request_region.reset(token)


class Arns:
    """Keys and ARNs of this emulated account: ``region`` is the emulator's own."""

    __slots__ = ("region", "account", "fleet")

    def __init__(self, region: str, account: str) -> None:
        self.region = region
        self.account = account
        self.fleet = "fleet-" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"lobby:{account}"))

    # --- the request's region ------------------------------------------------------------------

    @property
    def current(self) -> str:
        """The region of the operation running now."""
        return _request_region.get() or self.region

    def key(self, name: str, region: str | None = None) -> str:
        """The key of resource ``name`` in ``region`` (default: the request's)."""
        region = region or self.current
        return name if region == self.region else f"{region}/{name}"

    def prefix(self) -> str | None:
        """What every key of the request's region starts with (None: the emulator's region,
        whose keys have no slash)."""
        region = self.current
        return None if region == self.region else f"{region}/"

    def mine(self, key: str) -> bool:
        """Whether the resource of ``key`` is in the request's region."""
        return self.region_of(key) == self.current

    def scoped(self, value: str, kind: str) -> str:
        """The key of the resource a request names by ``value``, its name or its ARN. An ARN
        of another region or account is refused: the request may only name its own region's
        resources."""
        if not value.startswith("arn:"):
            return self.key(value)
        parts = value.split(":", 5)
        region, account = (parts[3], parts[4]) if len(parts) == 6 else ("", "")
        name = value.rsplit("/", 1)[1]
        if region != self.current:
            raise InvalidRequestException(
                f"The {kind} ARN {value} is in region {region or '(none)'}; this request is made"
                f" in {self.current}, and may only name resources of that region."
            )
        if account and account != self.account:
            raise InvalidRequestException(
                f"The {kind} ARN {value} belongs to account {account}; this request is made by"
                f" account {self.account}."
            )
        return self.key(name)

    # --- keys to what clients see --------------------------------------------------------------

    def region_of(self, key: str) -> str:
        return key.split("/", 1)[0] if "/" in key else self.region

    @staticmethod
    def name_of(key: str) -> str:
        return key.rsplit("/", 1)[-1]

    def configuration(self, key: str) -> str:
        return (
            f"arn:aws:gamelift:{self.region_of(key)}:{self.account}"
            f":matchmakingconfiguration/{self.name_of(key)}"
        )

    def rule_set(self, key: str) -> str:
        return f"arn:aws:gamelift:{self.region_of(key)}:{self.account}:matchmakingruleset/{self.name_of(key)}"

    def game_session(self, match_id: str, config_key: str) -> str:
        return f"arn:aws:gamelift:{self.region_of(config_key)}::gamesession/{self.fleet}/gsess-{match_id}"


def dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

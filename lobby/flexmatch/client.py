"""A typed async client for the FlexMatch operations of GameLift (AWS JSON 1.1 over httpx).

One ``httpx.AsyncClient`` per client; SigV4 is an httpx Auth applied to GameLift calls only
(the emulator's event stream, read through the same client, is not signed). Every call is
retried as the AWS SDKs' standard mode does and fails only with
:class:`lobby.core.errors.BackendError` subclasses. The HTTP ``Date`` of each answer gives
the server's clock skew, for countdowns that agree with the server.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from lobby.core.clock import SystemClock, skew_from_server_date
from lobby.core.errors import BackendError, InvalidRequest, ProtocolError, Unavailable
from lobby.flexmatch import errors as faults
from lobby.flexmatch.lifecycle import TicketStatus
from lobby.flexmatch.signing import CredentialSource, SigV4, SignedWhenAsked
from lobby.flexmatch.wire import (
    AcceptanceType,
    AcceptMatchRequest,
    CreateMatchmakingConfigurationRequest,
    CreateMatchmakingConfigurationResponse,
    CreateMatchmakingRuleSetRequest,
    CreateMatchmakingRuleSetResponse,
    DescribeMatchmakingConfigurationsRequest,
    DescribeMatchmakingConfigurationsResponse,
    DescribeMatchmakingRequest,
    DescribeMatchmakingResponse,
    Empty,
    MatchmakingConfiguration,
    MatchmakingRuleSet,
    MatchmakingTicket,
    Player,
    StartMatchmakingRequest,
    StartMatchmakingResponse,
    StopMatchmakingRequest,
    Wire,
)
from lobby.net.retry import RetryPolicy, RetryQuota, with_retries
from lobby.net.transports import proxy_configured

M = TypeVar("M", bound=Wire)

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "GameLift."
#: DescribeMatchmaking takes at most this many ticket ids per call.
DESCRIBE_BATCH = 10


def regional_endpoint(region: str) -> str:
    return f"https://gamelift.{region}.amazonaws.com"


class FlexMatchClient:
    """The FlexMatch operations, typed. Create it inside a running event loop or before one;
    close it with :meth:`aclose` (or ``async with``)."""

    def __init__(
        self,
        endpoint: str,
        *,
        region: str,
        credentials: CredentialSource,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        quota: RetryQuota | None = None,
        timeout: float = 10.0,
        describe_concurrency: int = 4,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        sign_when_asked: bool = False,
    ) -> None:
        """``sign_when_asked``: for the emulator, sign only once it refuses an unsigned request
        (see :class:`SignedWhenAsked`); else every request is signed."""
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.quota = quota if quota is not None else RetryQuota()
        self._sleep = sleep
        signed = SigV4(credentials, region)
        self._auth: httpx.Auth = SignedWhenAsked(signed) if sign_when_asked else signed
        self._url = self.endpoint + "/"
        self.http = httpx.AsyncClient(
            transport=transport if transport is not None else _default_transport(),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"User-Agent": "lobby"},
            event_hooks={"response": [self._observe_date]},
        )
        self._describe_slots = asyncio.Semaphore(describe_concurrency)
        self._last_date: str | None = None
        #: Seconds to add to this machine's clock to read the server's (0 within Date's 1 s grain).
        self.skew = 0.0
        #: Requests sent, retries included (for tests and benches).
        self.requests = 0
        #: Answers whose last call gave up after a lost answer: applied or not, unknown.
        self._unsettled: dict[tuple[str, frozenset[str]], None] = {}

    def __repr__(self) -> str:
        return f"FlexMatchClient(endpoint={self.endpoint!r}, region={self.region!r})"

    async def __aenter__(self) -> FlexMatchClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- time ---------------------------------------------------------------------------------

    async def _observe_date(self, response: httpx.Response) -> None:
        value = response.headers.get("date")
        if not value or value == self._last_date:
            return
        self._last_date = value
        try:
            server = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return
        if server.tzinfo is None:
            server = server.replace(tzinfo=UTC)
        # Date is truncated to the second: compare against its middle, ignore sub-second noise.
        skew = skew_from_server_date(server, datetime.now(UTC)) + 0.5
        self.skew = skew if abs(skew) >= 1.0 else 0.0

    def server_clock(self) -> SystemClock:
        """This machine's clock corrected by the skew last seen in a ``Date`` header."""
        return SystemClock(self.skew)

    # --- the one call path --------------------------------------------------------------------

    async def call(
        self,
        operation: str,
        request: Wire | None,
        response_model: type[M],
        *,
        failures: list[BackendError] | None = None,
    ) -> M:
        """Send ``operation`` with retries and parse the answer into ``response_model``
        (``failures``, when given, collects the failure of each attempt, the last one included)."""
        body = b"{}" if request is None else json.dumps(request.to_wire(), separators=(",", ":")).encode()
        headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + operation}

        async def once() -> M:
            self.requests += 1
            try:
                response = await self.http.post(self._url, content=body, headers=headers, auth=self._auth)
            except httpx.HTTPError as exc:
                raise faults.from_transport(operation, exc, self.endpoint) from None
            if response.status_code != 200:
                raise faults.from_response(
                    operation, response, secrets=await self.credentials.secrets(), region=self.region
                )
            return self._parse(operation, response, response_model)

        async def tracked() -> M:
            try:
                return await once()
            except BackendError as error:
                if failures is not None:
                    failures.append(error)
                raise

        attempt = once if failures is None else tracked
        return await with_retries(attempt, self.retry, sleep=self._sleep, quota=self.quota)

    @staticmethod
    def _parse(operation: str, response: httpx.Response, model: type[M]) -> M:
        try:
            return model.model_validate_json(response.content or b"{}")
        except ValidationError as exc:
            try:
                json.loads(response.content)
            except ValueError:
                raise ProtocolError(
                    f"GameLift answered {operation} with something that is not JSON.",
                    status=response.status_code,
                ) from None
            raise faults.from_validation(operation, exc, sending=False) from None

    @staticmethod
    def _request(operation: str, model: type[M], **fields: Any) -> M:
        try:
            return model(**fields)
        except ValidationError as exc:
            raise faults.from_validation(operation, exc, sending=True, model=model) from None

    # --- operations ---------------------------------------------------------------------------

    async def start_matchmaking(
        self,
        configuration_name: str,
        players: Sequence[str | Player],
        *,
        ticket_id: str | None = None,
    ) -> MatchmakingTicket:
        request = self._request(
            "StartMatchmaking",
            StartMatchmakingRequest,
            ticket_id=ticket_id,
            configuration_name=configuration_name,
            players=[p if isinstance(p, Player) else Player(player_id=p) for p in players],
        )
        answer = await self.call("StartMatchmaking", request, StartMatchmakingResponse)
        return answer.matchmaking_ticket

    async def describe_matchmaking(self, ticket_ids: Iterable[str]) -> list[MatchmakingTicket]:
        """Tickets by id, in the order asked (unknown ids are simply absent).

        Any number of ids: they go out in calls of 10, at most ``describe_concurrency`` at once.
        """
        ids = list(dict.fromkeys(ticket_ids))
        if not ids:
            return []
        batches = [ids[i : i + DESCRIBE_BATCH] for i in range(0, len(ids), DESCRIBE_BATCH)]
        requests = [
            self._request("DescribeMatchmaking", DescribeMatchmakingRequest, ticket_ids=batch)
            for batch in batches
        ]

        async def one(request: DescribeMatchmakingRequest) -> list[MatchmakingTicket]:
            async with self._describe_slots:
                return (await self.call("DescribeMatchmaking", request, DescribeMatchmakingResponse)).ticket_list

        if len(requests) == 1:
            found = await one(requests[0])
        else:
            try:
                async with asyncio.TaskGroup() as group:
                    tasks = [group.create_task(one(r)) for r in requests]
            except BaseExceptionGroup as group_error:
                raise _first_backend_error(group_error) from None
            found = [ticket for task in tasks for ticket in task.result()]
        by_id = {ticket.ticket_id: ticket for ticket in found}
        return [by_id[i] for i in ids if i in by_id]

    async def stop_matchmaking(self, ticket_id: str) -> None:
        request = self._request("StopMatchmaking", StopMatchmakingRequest, ticket_id=ticket_id)
        await self.call("StopMatchmaking", request, Empty)

    async def accept_match(
        self,
        ticket_id: str,
        player_ids: Sequence[str],
        acceptance_type: AcceptanceType | str = AcceptanceType.ACCEPT,
    ) -> None:
        """ACCEPT or REJECT for some players of a ticket. Safe to retry: a repeated answer is harmless.

        An ACCEPT whose answer was lost (a broken connection, a 5xx) may have been applied, and
        may even have completed the match, so that the retry (or the next call for the same
        players, when this one gave up) is refused because the ticket has moved on. Then the
        ticket decides: if it is PLACING or COMPLETED with these players, every player accepted,
        these included, and the acceptance stands.
        """
        request = self._request(
            "AcceptMatch",
            AcceptMatchRequest,
            ticket_id=ticket_id,
            player_ids=list(player_ids),
            acceptance_type=acceptance_type,
        )
        failures: list[BackendError] = []
        answer = (ticket_id, frozenset(request.player_ids))
        try:
            await self.call("AcceptMatch", request, Empty, failures=failures)
        except InvalidRequest:
            lost_answer = answer in self._unsettled or any(
                isinstance(f, Unavailable) for f in failures[:-1]
            )
            if request.acceptance_type is not AcceptanceType.ACCEPT or not lost_answer:
                self._unsettled.pop(answer, None)
                raise
            try:
                went_ahead = await self._went_ahead(ticket_id, request.player_ids)
            except BackendError:  # the ticket cannot be read: the outcome stays unknown
                self._unsettle(answer)
                raise
            self._unsettled.pop(answer, None)
            if not went_ahead:
                raise
        except BackendError:
            if any(isinstance(f, Unavailable) for f in failures):
                self._unsettle(answer)
            raise
        else:
            self._unsettled.pop(answer, None)

    def _unsettle(self, answer: tuple[str, frozenset[str]]) -> None:
        self._unsettled[answer] = None
        while len(self._unsettled) > 1000:
            del self._unsettled[next(iter(self._unsettled))]

    async def _went_ahead(self, ticket_id: str, player_ids: Sequence[str]) -> bool:
        """Whether the ticket's match was accepted by everyone, ``player_ids`` included."""
        found = await self.describe_matchmaking([ticket_id])
        return any(
            t.status in (TicketStatus.PLACING, TicketStatus.COMPLETED)
            and set(player_ids) <= set(t.player_ids)
            for t in found
        )

    async def iter_matchmaking_configurations(
        self,
        names: Sequence[str] | None = None,
        *,
        rule_set_name: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[MatchmakingConfiguration]:
        """Every configuration, page after page (``limit`` is the page size, 1..10)."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            request = self._request(
                "DescribeMatchmakingConfigurations",
                DescribeMatchmakingConfigurationsRequest,
                names=list(names) if names else None,
                rule_set_name=rule_set_name,
                limit=limit,
                next_token=token,
            )
            page = await self.call(
                "DescribeMatchmakingConfigurations", request, DescribeMatchmakingConfigurationsResponse
            )
            for configuration in page.configurations:
                yield configuration
            token = page.next_token
            if not token:
                return
            if token in seen:
                raise ProtocolError("GameLift repeated a page token while listing configurations.")
            seen.add(token)

    async def describe_matchmaking_configurations(
        self,
        names: Sequence[str] | None = None,
        *,
        rule_set_name: str | None = None,
        limit: int | None = None,
    ) -> list[MatchmakingConfiguration]:
        return [c async for c in self.iter_matchmaking_configurations(names, rule_set_name=rule_set_name, limit=limit)]

    async def create_matchmaking_rule_set(self, name: str, body: str | dict[str, Any]) -> MatchmakingRuleSet:
        text = body if isinstance(body, str) else json.dumps(body)
        request = self._request(
            "CreateMatchmakingRuleSet", CreateMatchmakingRuleSetRequest, name=name, rule_set_body=text
        )
        return (await self.call("CreateMatchmakingRuleSet", request, CreateMatchmakingRuleSetResponse)).rule_set

    async def create_matchmaking_configuration(self, **fields: Any) -> MatchmakingConfiguration:
        """Fields as in :class:`CreateMatchmakingConfigurationRequest` (snake_case)."""
        request = self._request(
            "CreateMatchmakingConfiguration", CreateMatchmakingConfigurationRequest, **fields
        )
        answer = await self.call(
            "CreateMatchmakingConfiguration", request, CreateMatchmakingConfigurationResponse
        )
        return answer.configuration


def _default_transport() -> httpx.AsyncBaseTransport | None:
    """aiohttp's HTTP/1.1 client under httpx's API, unless the environment configures a proxy:
    then httpx's own transports (None), which honour proxies.

    httpx's default transport (httpcore over anyio) costs about a millisecond per call here,
    more than a whole boto3 call; aiohttp's C-accelerated client is about twice as fast
    (tests/bench/test_bench_flexmatch.py measures both against boto3).
    """
    if proxy_configured():
        return None
    from httpx_aiohttp import AiohttpTransport  # aiohttp is costly to import: only when used

    return AiohttpTransport()


def _first_backend_error(group: BaseExceptionGroup) -> BaseException:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_backend_error(exc)
        if isinstance(exc, BackendError):
            return exc
    return group.exceptions[0]

"""The TeamBattles HTTP client: one async httpx client, typed calls, typed failures.

- Every call returns a wire model or raises a :class:`~lobby.core.errors.BackendError`
  subclass whose message is one plain sentence without the API key in it.
- Network failures, 5xx and 429 are retried (:mod:`lobby.net.retry`; a 429 waits for its
  ``Retry-After``). Every state-changing call sends one ``Idempotency-Key`` (uuid4) and reuses
  it on each retry, so a submission whose answer was lost is applied once. A 409 is never
  retried.
- Every answer's ``X-RateLimit-*`` headers feed the :class:`RateLimitPacer` that background
  polling consults.
- The server's own time (the ``timestamp`` of an answer, else its ``Date`` header) gives
  :attr:`TeamBattlesClient.skew`, so countdowns and "has it started" use the service's clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from lobby import __version__
from lobby.core.errors import BackendError, Throttled, Unavailable
from lobby.net.retry import RetryPolicy, with_retries
from lobby.net.transports import READ, RECEIVED_AT
from lobby.teambattles import wire as m
from lobby.teambattles.errors import error_from_response, protocol_error
from lobby.teambattles.keys import ApiKey
from lobby.teambattles.pacing import RateLimitPacer

log = logging.getLogger(__name__)

T = TypeVar("T", bound=m.Wire)

#: Safety stop for cursor paging: a service that always says "more" is not followed forever.
MAX_PAGES = 50


class _BearerAuth(httpx.Auth):
    """Adds ``Authorization: Bearer <key>`` to each request; holds the key, never shows it."""

    def __init__(self, key: ApiKey) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._key.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def _path(template: str, **ids: str) -> str:
    return template.format(**{k: quote(v, safe="") for k, v in ids.items()})


def _server_time(response: httpx.Response, payload: Any) -> datetime | None:
    stamp = payload.get("timestamp") if isinstance(payload, dict) else None
    if isinstance(stamp, str):
        try:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            return when if when.tzinfo else when.replace(tzinfo=UTC)
        except ValueError:
            pass
    date = response.headers.get("date")
    if date:
        try:
            return parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return None
    return None


class TeamBattlesClient:
    """Typed access to the TeamBattles routes lobby uses. Use as ``async with``."""

    def __init__(
        self,
        base_url: str,
        api_key: ApiKey,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        pacer: RateLimitPacer | None = None,
        timeout: float = 15.0,
        idempotency_keys: Callable[[], str] = new_idempotency_key,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.retry = retry or RetryPolicy(max_attempts=4, base=0.5, cap=8.0)
        self._sleep = sleep
        self.pacer = pacer or RateLimitPacer(sleep=sleep)
        self._new_key = idempotency_keys
        #: Seconds to add to this machine's clock to read the service's clock.
        self.skew = 0.0
        self._precise_skew = False
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            auth=_BearerAuth(api_key),
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": f"lobby/{__version__}"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"TeamBattlesClient({self.base_url!r}, key from {self._key.source})"

    async def __aenter__(self) -> TeamBattlesClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def now(self) -> datetime:
        """The service's time, as best known."""
        return datetime.fromtimestamp(time.time() + self.skew, UTC)

    # --- the one way out -------------------------------------------------------------------------

    async def _once(
        self,
        method: str,
        path: str,
        model: type[T],
        body: bytes | None,
        headers: dict[str, str],
        extensions: dict[str, object],
    ) -> T:
        route = f"{method} /{path}"
        try:
            response = await self._http.request(method, path, content=body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            raise Unavailable(f"TeamBattles did not answer {route} in time.") from None
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise Unavailable(
                f"Could not reach TeamBattles at {self.base_url} ({reason})."
            ) from None
        log.debug("%s -> %s", route, response.status_code)
        self.pacer.observe(response.headers)
        if 300 <= response.status_code < 400 or response.status_code < 200:
            raise protocol_error(route, response.status_code)
        if response.status_code >= 400:
            error = error_from_response(response)
            if isinstance(error, Throttled) and error.retry_after is not None:
                self.pacer.observe_retry_after(error.retry_after)
            raise error
        try:
            payload = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise protocol_error(route, response.status_code) from None
        received = _server_time(response, payload)
        if received is not None:
            # Against the moment the answer arrived: a replayed one (the early listing's)
            # arrived earlier than it is read.
            arrived = response.extensions.get(RECEIVED_AT)
            at = datetime.fromtimestamp(arrived, UTC) if isinstance(arrived, float) else datetime.now(UTC)
            skew = (received - at).total_seconds()
            # A Date header has whole seconds (and may lag a little): once a body's precise
            # ``timestamp`` has set the skew, a Date header moves it only when far off.
            precise = isinstance(payload, dict) and isinstance(payload.get("timestamp"), str)
            if precise or not self._precise_skew or abs(skew - self.skew) > 5.0:
                self.skew = skew
            self._precise_skew = self._precise_skew or precise
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            log.debug("%s: unexpected body: %s", route, exc)
            raise protocol_error(route, response.status_code) from None

    async def _call(
        self,
        method: str,
        path: str,
        model: type[T],
        body: m.Wire | None = None,
        *,
        idempotency_key: str | None = None,
        read: bool = False,
    ) -> T:
        """One route; ``read``: a POST that only reads (a search with a body), marked so for
        the transports (:data:`~lobby.net.transports.READ`)."""
        headers: dict[str, str] = {}
        extensions: dict[str, object] = {READ: True} if read else {}
        content: bytes | None = None
        if body is not None:
            # Serialised once: every retry sends the very same bytes with the same key.
            content = json.dumps(body.wire(), separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            return await with_retries(
                lambda: self._once(method, path, model, content, headers, extensions),
                self.retry,
                sleep=self._sleep,
            )
        except BackendError as error:
            raise self._scrub(error) from None

    def _scrub(self, error: BackendError) -> BackendError:
        """Make sure no message carries the key, whatever the service or network said."""
        clean = self._key.redact(error.message)
        if clean != error.message:
            error.message = clean
            error.args = (clean,)
        if error.details is not None:
            error.details = self._key.redact(error.details)
        return error

    async def _write(
        self, path: str, model: type[T], body: m.Wire | None, idempotency_key: str | None
    ) -> T:
        key = idempotency_key or self._new_key()
        return await self._call("POST", path, model, body, idempotency_key=key)

    # --- reads -----------------------------------------------------------------------------------

    async def games(self) -> m.GameCatalog:
        return await self._call("GET", "games", m.GameCatalog)

    async def discover(self, filters: m.MatchDiscoverBody | None = None) -> m.MatchDiscoverPage:
        body = filters or m.MatchDiscoverBody()
        return await self._call("POST", "matches/discover", m.MatchDiscoverPage, body, read=True)

    async def discover_all(
        self, filters: m.MatchDiscoverBody | None = None, *, max_pages: int = MAX_PAGES
    ) -> list[m.MatchDetail]:
        """Every open match the filters select, following ``nextCursor`` while ``hasMore``."""
        base = filters or m.MatchDiscoverBody()
        if base.limit is None:
            base = base.model_copy(update={"limit": 100})
        out: list[m.MatchDetail] = []
        page = await self.discover(base)
        out.extend(page.data)
        pages = 1
        while page.has_more and page.next_cursor and pages < max_pages:
            page = await self.discover(base.model_copy(update={"cursor": page.next_cursor}))
            out.extend(page.data)
            pages += 1
        return out

    async def get_match(self, match_id: str) -> m.MatchDetail:
        answer = await self._call("GET", _path("matches/{id}", id=match_id), m.MatchDetailResponse)
        return answer.match

    async def match_players(self, match_id: str) -> list[m.MatchPlayer]:
        answer = await self._call("GET", _path("matches/{id}/players", id=match_id), m.MatchPlayers)
        return answer.players

    async def team(self, identifier: str) -> m.TeamProfile:
        answer = await self._call("GET", _path("teams/{id}", id=identifier), m.TeamProfileResponse)
        return answer.team

    async def team_members(self, identifier: str) -> list[m.TeamMember]:
        answer = await self._call("GET", _path("teams/{id}/members", id=identifier), m.TeamMembers)
        return answer.members

    async def user_teams(self, identifier: str) -> list[m.UserTeamMembership]:
        answer = await self._call("GET", _path("users/{id}/teams", id=identifier), m.UserTeams)
        return answer.teams

    async def user_matches_page(self, filters: m.MatchesRequestBody | None = None) -> m.UserMatchesPage:
        body = filters or m.MatchesRequestBody()
        return await self._call("POST", "user/matches", m.UserMatchesPage, body, read=True)

    async def user_matches(
        self, filters: m.MatchesRequestBody | None = None, *, max_pages: int = MAX_PAGES
    ) -> AsyncIterator[m.UserMatch]:
        """The matches the key owner is on the roster of, newest first, every page."""
        async for item in self._walk(self.user_matches_page, filters, max_pages):
            yield item

    async def team_matches_page(
        self, identifier: str, filters: m.MatchesRequestBody | None = None
    ) -> m.UserMatchesPage:
        body = filters or m.MatchesRequestBody()
        path = _path("teams/{id}/matches", id=identifier)
        return await self._call("POST", path, m.UserMatchesPage, body, read=True)

    async def team_matches(
        self,
        identifier: str,
        filters: m.MatchesRequestBody | None = None,
        *,
        max_pages: int = MAX_PAGES,
    ) -> AsyncIterator[m.UserMatch]:
        """A team's matches (its active members only), newest first, every page."""

        async def page_of(body: m.MatchesRequestBody | None) -> m.UserMatchesPage:
            return await self.team_matches_page(identifier, body)

        async for item in self._walk(page_of, filters, max_pages):
            yield item

    async def _walk(
        self,
        page_of: Callable[[m.MatchesRequestBody | None], Awaitable[m.UserMatchesPage]],
        filters: m.MatchesRequestBody | None,
        max_pages: int,
    ) -> AsyncIterator[m.UserMatch]:
        """Follow ``continueCursor`` until ``isDone`` (or ``max_pages``)."""
        base = filters or m.MatchesRequestBody(num_items=100)
        page = await page_of(base)
        pages = 1
        for item in page.page:
            yield item
        while not page.is_done and page.continue_cursor and pages < max_pages:
            page = await page_of(base.model_copy(update={"cursor": page.continue_cursor}))
            pages += 1
            for item in page.page:
                yield item

    async def ongoing_matches(self) -> list[m.MatchDetail]:
        answer = await self._call("GET", "user/ongoing-matches", m.OngoingMatches)
        return answer.matches

    # --- writes (each one logical submission: one Idempotency-Key, reused on retries) -------------

    async def create_acceptance(
        self, match_id: str, body: m.AcceptMatchRequestBody, *, idempotency_key: str | None = None
    ) -> m.AcceptMatchResponse:
        path = _path("matches/{id}/accept", id=match_id)
        return await self._write(path, m.AcceptMatchResponse, body, idempotency_key)

    async def approve_acceptance(
        self,
        match_id: str,
        acceptance_id: str,
        body: m.ApproveAcceptanceRequestBody | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> m.SuccessResponse:
        path = _path("matches/{id}/acceptances/{a}/approve", id=match_id, a=acceptance_id)
        body = body or m.ApproveAcceptanceRequestBody()
        return await self._write(path, m.SuccessResponse, body, idempotency_key)

    async def decline_acceptance(
        self,
        match_id: str,
        acceptance_id: str,
        body: m.DeclineAcceptanceRequestBody | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> m.SuccessResponse:
        path = _path("matches/{id}/acceptances/{a}/decline", id=match_id, a=acceptance_id)
        body = body or m.DeclineAcceptanceRequestBody()
        return await self._write(path, m.SuccessResponse, body, idempotency_key)

    async def accept_challenge(
        self, match_id: str, body: m.AcceptChallengeRequestBody, *, idempotency_key: str | None = None
    ) -> m.SuccessResponse:
        path = _path("matches/{id}/challenges/accept", id=match_id)
        return await self._write(path, m.SuccessResponse, body, idempotency_key)

    async def refuse_challenge(
        self,
        match_id: str,
        body: m.RefuseChallengeRequestBody | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> m.SuccessResponse:
        path = _path("matches/{id}/challenges/refuse", id=match_id)
        body = body or m.RefuseChallengeRequestBody()
        return await self._write(path, m.SuccessResponse, body, idempotency_key)

    async def create_match(
        self, body: m.CreateMatchRequestBody, *, idempotency_key: str | None = None
    ) -> m.MatchIdResponse:
        return await self._write("matches/create", m.MatchIdResponse, body, idempotency_key)

    async def publish_match(
        self, match_id: str, *, idempotency_key: str | None = None
    ) -> m.SuccessResponse:
        path = _path("matches/{id}/publish", id=match_id)
        return await self._write(path, m.SuccessResponse, None, idempotency_key)

    async def cancel_match(
        self,
        match_id: str,
        body: m.CancelMatchRequestBody | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> m.MatchIdResponse:
        path = _path("matches/{id}/cancel", id=match_id)
        body = body or m.CancelMatchRequestBody()
        return await self._write(path, m.MatchIdResponse, body, idempotency_key)

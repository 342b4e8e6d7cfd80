"""The /api/v1 routes and the pipeline every request goes through.

address bucket -> API key (401) -> key bucket (429) -> scopes, kind and plan (403) -> body (400)
-> Idempotency-Key -> the operation. Every answer, refusals included, is JSON in the contract's
shape and carries the X-RateLimit headers. Handlers take the raw request and read the body
themselves, so FastAPI's own validation (and its 422) never applies here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from lobby.emulator.runtime import Runtime
from lobby.emulator.teambattles import idempotency
from lobby.emulator.teambattles.access import ACCESS, Access, enforce
from lobby.emulator.teambattles.auth import ApiKey, authenticate, authorize
from lobby.emulator.teambattles.errors import ApiError, invalid
from lobby.emulator.teambattles.matches import NewMatch
from lobby.emulator.teambattles.projections import OBJECTIVES
from lobby.emulator.teambattles.queries import DiscoverFilter, UserMatchesFilter
from lobby.emulator.teambattles.ratelimit import RateLimiter
from lobby.emulator.teambattles.service import TeamBattles
from lobby.emulator.teambattles.tally import CALLER, UNROUTED, AnswerTally
from lobby.emulator.teambattles.wire import MAX_BODY_BYTES, Body, iso, parse_iso, parse_json
from lobby.core.answers import AcceptanceDraft, MapPreferenceMode, PublishStatus, RosterDraft
from lobby.teambattles.vocab import (
    BEST_OF_VALUES,
    DISCOVER_LIMIT_DEFAULT,
    DISCOVER_LIMIT_MAX,
    DISCOVER_LIMIT_MIN,
    NOTES_MAX_LENGTH,
    TEAM_SIZE_MAX,
    USER_MATCHES_NUM_ITEMS_DEFAULT,
    USER_MATCHES_NUM_ITEMS_MAX,
    USER_MATCHES_NUM_ITEMS_MIN,
    CreateMapPreferenceMode,
    InputDevice,
    MapSelectionType,
    MatchType,
    Platform,
    Region,
)
from lobby.teambattles.vocab import ErrorCode as E

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
#: The code of a bad numItems. The pages name error_invalid_num_items, which the published
#: ApiErrorCode lacks; its member for a page size out of range is error_invalid_limit.
NUM_ITEMS_CODE = E.INVALID_LIMIT
#: The code of a path no route serves (404) or a method a path does not take (405): the
#: contract describes neither; its enum's member for a request it cannot serve.
UNKNOWN_ROUTE_CODE = E.INVALID_REQUEST
#: The latest scheduledAt taken (epoch milliseconds): 9999-12-31T23:59:59.999Z.
LATEST_SCHEDULED_MS = 253_402_300_799_999


_WRITE_STATUSES = frozenset({200, 400, 401, 403, 404, 409, 429, 500})
_READ_STATUSES = frozenset({200, 401, 403, 404, 429, 500})


@dataclass(frozen=True, slots=True)
class Call:
    key: ApiKey
    params: dict[str, str]
    body: Body
    service: TeamBattles

    @property
    def owner(self) -> str:
        return self.key.owner_id

    def now(self) -> str:
        return iso(self.service.now()) or ""


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    method: str
    path: str
    handler: Handler
    body: str = "none"  # none | optional | required
    statuses: frozenset[int] = field(default=_READ_STATUSES)

    @property
    def access(self) -> Access:
        """Who may call it: the operation's row of the access table."""
        return ACCESS[self.name]

    def status_for(self, status: int) -> int:
        """The contract lists each route's statuses; an error outside them answers 400."""
        if status in self.statuses or status in (401, 429, 500):
            return status
        return 400


# --- handlers -------------------------------------------------------------------------------------


def _ok(call: Call, **fields: Any) -> dict[str, Any]:
    return {"success": True, **fields, "timestamp": call.now()}


def list_games(call: Call) -> dict[str, Any]:
    s = call.service
    return {
        "games": [s.projections.catalog_entry(g) for g in s.lookups.games()],
        "objectives": OBJECTIVES,
        "timestamp": call.now(),
    }


def _when(body: Body, name: str) -> float | None:
    value = body.string(name, max_length=64)
    return None if value is None else parse_iso(value, name)


def discover_matches(call: Call) -> dict[str, Any]:
    b, s = call.body, call.service
    game_id = b.string("gameId")
    slug = b.string("gameSlug")
    if game_id is not None and slug is not None:
        raise invalid("Give gameId or gameSlug, not both.")
    game_filter = None
    if game_id is not None or slug is not None:
        game = s.lookups.game(game_id or slug or "")
        game_filter = game.convex_id if game else "\x00no such game"
    if b.string("leagueSeasonId") is not None and b.string("leagueId") is None:
        raise invalid("leagueSeasonId needs leagueId.")
    f = DiscoverFilter(
        game_id=game_filter,
        platform=b.string("platform", enum=tuple(Platform)),
        region=b.string("region", enum=tuple(Region)),
        match_type=b.string("matchType", enum=tuple(MatchType)),
        after=_when(b, "scheduledAfter"),
        before=_when(b, "scheduledBefore"),
        league_id=b.string("leagueId"),
        limit=b.integer(
            "limit", minimum=DISCOVER_LIMIT_MIN, maximum=DISCOVER_LIMIT_MAX, code=E.INVALID_LIMIT
        )
        or DISCOVER_LIMIT_DEFAULT,
        cursor=b.nullable_cursor(),
    )
    data, nxt = s.reads.discover(f)
    return {"data": data, "nextCursor": nxt, "hasMore": nxt is not None, "timestamp": call.now()}


def _listing_filter(b: Body) -> UserMatchesFilter:
    """The body of the two native-envelope match listings."""
    return UserMatchesFilter(
        num_items=b.integer(
            "numItems",
            minimum=USER_MATCHES_NUM_ITEMS_MIN,
            maximum=USER_MATCHES_NUM_ITEMS_MAX,
            code=NUM_ITEMS_CODE,
        )
        or USER_MATCHES_NUM_ITEMS_DEFAULT,
        cursor=b.nullable_cursor(),
        include=b.strings("includeStatuses"),
        exclude=b.strings("excludeStatuses"),
        game_id=b.string("gameId"),
        scheduled_after=_when(b, "scheduledAfter"),
        scheduled_before=_when(b, "scheduledBefore"),
        created_after=_when(b, "createdAfter"),
        created_before=_when(b, "createdBefore"),
        opponent=b.string("opponentId"),
    )


def list_user_matches(call: Call) -> dict[str, Any]:
    page, done, cont = call.service.reads.user_matches(call.owner, _listing_filter(call.body))
    return {"page": page, "isDone": done, "continueCursor": cont}


def list_team_matches(call: Call) -> dict[str, Any]:
    reads = call.service.reads
    f = _listing_filter(call.body)
    page, done, cont = reads.team_matches(call.owner, call.params["identifier"], f)
    return {"page": page, "isDone": done, "continueCursor": cont}


def list_ongoing(call: Call) -> dict[str, Any]:
    return {"matches": call.service.reads.ongoing(call.owner), "timestamp": call.now()}


def get_match(call: Call) -> dict[str, Any]:
    match = call.service.lookups.match_or_404(call.params["matchId"])
    return {"match": call.service.projections.match_detail(match), "timestamp": call.now()}


def get_players(call: Call) -> dict[str, Any]:
    match = call.service.lookups.match_or_404(call.params["matchId"])
    return {
        "matchId": match["id"],
        "players": call.service.projections.players(match["id"]),
        "timestamp": call.now(),
    }


def create_acceptance(call: Call) -> dict[str, Any]:
    b = call.body
    mode = b.string("mapPreferenceMode", enum=tuple(MapPreferenceMode))
    draft = AcceptanceDraft(
        team_id=b.string("teamId", required=True, min_length=1) or "",
        active_roster=b.strings("activeRoster", required=True, min_items=1, item_min_length=1),
        bench=b.bench(),
        map_mode=MapPreferenceMode(mode) if mode else None,
        selected_maps=b.strings("selectedMaps"),
        message=b.text("message"),
        disputed_rules=b.mapping("disputedRules") or {},
    )
    acceptance_id = call.service.acceptances.create_acceptance(call.owner, call.params["matchId"], draft)
    return _ok(call, acceptanceId=acceptance_id)


def approve_acceptance(call: Call) -> dict[str, Any]:
    b = call.body
    maps = b.strings("availableMaps") if b.has("availableMaps") else None
    call.service.acceptances.approve(
        call.owner,
        call.params["matchId"],
        call.params["acceptanceId"],
        b.text("responseMessage"),
        maps,
    )
    return _ok(call)


def decline_acceptance(call: Call) -> dict[str, Any]:
    call.service.acceptances.decline(
        call.owner,
        call.params["matchId"],
        call.params["acceptanceId"],
        call.body.text("responseMessage"),
    )
    return _ok(call)


def accept_challenge(call: Call) -> dict[str, Any]:
    b = call.body
    roster = RosterDraft(
        active=b.strings("activeRoster", required=True, min_items=1, item_min_length=1),
        bench=b.bench(),
    )
    call.service.acceptances.accept_challenge(call.owner, call.params["matchId"], roster)
    return _ok(call)


def refuse_challenge(call: Call) -> dict[str, Any]:
    call.service.acceptances.refuse_challenge(call.owner, call.params["matchId"], call.body.text("reason"))
    return _ok(call)


def create_match(call: Call) -> dict[str, Any]:
    b = call.body
    team_id = b.string("teamId", required=True, min_length=1) or ""
    game_id = b.string("gameId", required=True, min_length=1) or ""
    game_mode = b.string("gameModeId", required=True, min_length=1) or ""
    match_type = b.string("matchType", required=True, enum=tuple(MatchType)) or ""
    selection = b.string("mapSelectionType", required=True, enum=tuple(MapSelectionType)) or ""
    preference = (
        b.string("mapPreferenceMode", required=True, enum=tuple(CreateMapPreferenceMode)) or ""
    )
    team_size = b.integer("teamSize", required=True, minimum=1, maximum=TEAM_SIZE_MAX) or 1
    best_of = b.integer("bestOf", required=True, choices=BEST_OF_VALUES, code=E.INVALID_BEST_OF) or 1
    roster = RosterDraft(
        active=b.strings("activeRoster", required=True, min_items=1, item_min_length=1),
        bench=b.bench(),
    )
    scheduled_ms = b.number("scheduledAt")
    if scheduled_ms is not None and scheduled_ms > LATEST_SCHEDULED_MS:
        raise invalid("scheduledAt is past the end of the year 9999.")
    wager = b.number("wagerAmount", minimum=0)
    if match_type == MatchType.WAGER and not wager:
        raise invalid("A WAGER match needs a wagerAmount above 0.")
    is_challenge = b.boolean("isChallenge") or False
    challenged = b.string("challengedTeamId", min_length=1)
    if is_challenge and challenged is None:
        raise invalid("challengedTeamId is required when isChallenge is true.")
    if challenged is not None and not is_challenge:
        raise invalid("challengedTeamId goes with isChallenge: true.")
    options = b.mapping("gameSpecificOptions") or {}
    for name, value in options.items():
        if (
            not isinstance(value, str | int | float | bool)
            or len(str(value)) > 200
            or len(name) > 64
        ):
            raise invalid(
                f"gameSpecificOptions.{name[:64]} must be short text, a number or a flag."
            )
    locked = b.mapping("lockedRules") or {}
    if any(not isinstance(v, bool) for v in locked.values()):
        raise invalid("lockedRules values must be true or false.")
    notes = b.string("notes", max_length=NOTES_MAX_LENGTH)
    new = NewMatch(
        team_id=team_id,
        game_id=game_id,
        game_mode=game_mode,
        match_type=match_type,
        map_selection_type=selection,
        map_preference_mode=preference,
        team_size=team_size,
        best_of=best_of,
        roster=roster,
        platform=b.string("platform", enum=tuple(Platform)) or Platform.CROSSPLAY,
        input_device=b.string("inputDevice", enum=tuple(InputDevice)) or InputDevice.ALL,
        region=b.string("region", enum=tuple(Region)) or Region.NONE,
        scheduled_at=None if scheduled_ms is None else scheduled_ms / 1000.0,
        wager_amount=wager,
        selected_maps=b.strings("selectedMaps"),
        selected_objectives=b.strings("selectedObjectives"),
        notes=notes,
        publish_status=b.string("publishStatus", enum=tuple(PublishStatus))
        or PublishStatus.DRAFT,
        challenged_team_id=challenged,
        league_id=b.string("leagueId", min_length=1),
    )
    if new.league_id is not None:
        raise ApiError(E.LEAGUE_NOT_FOUND, f"No league {new.league_id!r}.")
    match_id = call.service.matches.create_match(call.owner, new)
    return _ok(call, matchId=match_id)


def publish_match(call: Call) -> dict[str, Any]:
    call.service.matches.publish(call.owner, call.params["matchId"])
    return _ok(call)


def cancel_match(call: Call) -> dict[str, Any]:
    match_id = call.params["matchId"]
    call.service.matches.cancel(call.owner, match_id, call.body.text("reason"))
    return _ok(call, matchId=match_id)


def get_team(call: Call) -> dict[str, Any]:
    s = call.service
    team = s.lookups.team_or_404(call.params["identifier"])
    return {"team": s.projections.team_profile(team, call.owner), "timestamp": call.now()}


def list_members(call: Call) -> dict[str, Any]:
    s = call.service
    team = s.lookups.team_or_404(call.params["identifier"])
    members = s.projections.member_rows(team["id"])
    return {"members": members, "count": len(members), "timestamp": call.now()}


def list_user_teams(call: Call) -> dict[str, Any]:
    teams = call.service.reads.user_teams(call.owner, call.params["identifier"])
    return {"teams": teams, "count": len(teams), "timestamp": call.now()}


def _write(
    name: str,
    path: str,
    handler: Handler,
    body: str = "optional",
    statuses: frozenset[int] = _WRITE_STATUSES,
) -> Operation:
    return Operation(name, "POST", path, handler, body=body, statuses=statuses)


OPERATIONS: tuple[Operation, ...] = (
    Operation("listGames", "GET", "/games", list_games, statuses=frozenset({200, 401, 429, 500})),
    Operation(
        "discoverMatches",
        "POST",
        "/matches/discover",
        discover_matches,
        body="optional",
        statuses=frozenset({200, 400, 401, 403, 404, 429, 500}),
    ),
    _write("createMatch", "/matches/create", create_match, body="required"),
    Operation(
        "listUserMatches",
        "POST",
        "/user/matches",
        list_user_matches,
        body="optional",
        statuses=frozenset({200, 400, 401, 403}),
    ),
    Operation("listUserOngoingMatches", "GET", "/user/ongoing-matches", list_ongoing),
    Operation(
        "listTeamMatches",
        "POST",
        "/teams/{identifier}/matches",
        list_team_matches,
        body="optional",
        statuses=frozenset({200, 400, 401, 403, 404}),
    ),
    Operation("getMatchDetail", "GET", "/matches/{matchId}", get_match),
    Operation("getMatchPlayers", "GET", "/matches/{matchId}/players", get_players),
    _write(
        "createMatchAcceptance", "/matches/{matchId}/accept", create_acceptance, body="required"
    ),
    _write(
        "approveMatchAcceptance",
        "/matches/{matchId}/acceptances/{acceptanceId}/approve",
        approve_acceptance,
    ),
    _write(
        "declineMatchAcceptance",
        "/matches/{matchId}/acceptances/{acceptanceId}/decline",
        decline_acceptance,
    ),
    _write(
        "acceptMatchChallenge",
        "/matches/{matchId}/challenges/accept",
        accept_challenge,
        body="required",
    ),
    _write("refuseMatchChallenge", "/matches/{matchId}/challenges/refuse", refuse_challenge),
    _write(
        "publishMatch",
        "/matches/{matchId}/publish",
        publish_match,
        statuses=frozenset({200, 400, 401, 403, 404, 429, 500}),
    ),
    _write("cancelMatch", "/matches/{matchId}/cancel", cancel_match),
    Operation("getTeamProfile", "GET", "/teams/{identifier}", get_team),
    Operation("listTeamMembers", "GET", "/teams/{identifier}/members", list_members),
    Operation("listUserTeams", "GET", "/users/{identifier}/teams", list_user_teams),
)


def _template_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$")


_TEMPLATES = [(_template_regex(op.path), op.method) for op in OPERATIONS]


# --- the pipeline ---------------------------------------------------------------------------------


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _respond(status: int, body: bytes, headers: dict[str, str]) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _error(err: ApiError, status: int, headers: dict[str, str]) -> Response:
    return _respond(status, _encode(err.body()), {**headers, **err.headers})


async def _read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise invalid(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise invalid(f"The body is larger than {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


class Api:
    def __init__(self, runtime: Runtime, service: TeamBattles, limiter: RateLimiter) -> None:
        self.runtime = runtime
        self.service = service
        self.limiter = limiter
        self.tally = AnswerTally()

    def _address(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"

    async def handle(self, request: Request, op: Operation) -> Response:
        now = self.runtime.clock.timestamp()
        decision = self.limiter.take_ip(self._address(request), now)
        headers = decision.headers()
        if not decision.allowed:
            return _error(
                ApiError(E.IP_RATE_LIMITED, "Too many requests from this address; slow down."),
                429,
                headers,
            )
        try:
            key = authenticate(self.service.store, request.headers.get("authorization"), now)
        except ApiError as err:
            return _error(err, err.status, headers)
        setattr(request.state, CALLER, key.owner_id)
        decision = self.limiter.take_key(key.hash, key.plan, now)
        headers = decision.headers()
        if not decision.allowed:
            return _error(
                ApiError(E.API_RATE_LIMITED, "Too many requests with this API key; slow down."),
                429,
                headers,
            )
        try:
            authorize(key, op.access)
            enforce(op.access.gate, self.service.lookups, key.owner_id, dict(request.path_params))
            raw = b""
            data = None
            if op.body != "none":
                raw = await _read_body(request)
                data = parse_json(raw, required=op.body == "required")
            call = Call(key, dict(request.path_params), Body(data), self.service)

            def execute() -> idempotency.Answer:
                return idempotency.Answer(200, _encode(op.handler(call)), {})

            idem = request.headers.get(idempotency.HEADER)
            if idem is not None and op.access.write:
                answer = idempotency.run_once(
                    self.service.store,
                    key_hash=key.hash,
                    route=f"{op.method} {request.url.path}",
                    idempotency_key=idempotency.check_key(idem),
                    raw_body=raw,
                    now=now,
                    execute=execute,
                )
            else:
                answer = execute()
            return _respond(answer.status, answer.body, {**headers, **answer.headers})
        except ApiError as err:
            return _error(err, op.status_for(err.status), headers)
        except ClientDisconnect:  # the client left while sending its body: nothing ran, no error
            raise
        except Exception:  # never a bare 500 page: the contract's envelope, and a log line
            log.exception("TeamBattles %s failed", op.name)
            return _error(ApiError(E.INTERNAL, "The emulator failed; see its log."), 500, headers)

    async def fallback(self, request: Request) -> Response:
        """Anything else under /api/v1: 404 or 405 in the Error envelope."""
        decision = self.limiter.take_ip(self._address(request), self.runtime.clock.timestamp())
        headers = decision.headers()
        if not decision.allowed:
            return _error(
                ApiError(E.IP_RATE_LIMITED, "Too many requests from this address; slow down."),
                429,
                headers,
            )
        path = request.url.path[len(PREFIX) :] or "/"
        methods = sorted({m for rx, m in _TEMPLATES if rx.match(path)})
        if methods:
            err = ApiError(UNKNOWN_ROUTE_CODE, f"{path} takes {', '.join(methods)}.", status=405)
            return _error(err, 405, {**headers, "Allow": ", ".join(methods)})
        err = ApiError(UNKNOWN_ROUTE_CODE, f"No route {request.method} {PREFIX}{path}.", status=404)
        return _error(err, 404, headers)


def register(app: FastAPI, api: Api) -> None:
    for op in OPERATIONS:
        app.add_api_route(
            PREFIX + op.path,
            _endpoint(api, op),
            methods=[op.method],
            include_in_schema=False,
            name=f"teambattles.{op.name}",
        )

    async def fallback(request: Request) -> Response:
        response = await api.fallback(request)
        api.tally.record("", UNROUTED, response)
        return response

    async def answers() -> dict[str, object]:
        return api.tally.snapshot()

    app.add_api_route("/_emulator/teambattles/answers", answers, methods=["GET"], include_in_schema=False)
    for path in (PREFIX, PREFIX + "/{rest:path}"):
        app.add_api_route(
            path,
            fallback,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            include_in_schema=False,
            name=f"teambattles.fallback{path.count('/')}",
        )


def _endpoint(api: Api, op: Operation) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        response = await api.handle(request, op)
        api.tally.record(getattr(request.state, CALLER, ""), op.name, response)
        return response

    endpoint.__name__ = op.name
    return endpoint

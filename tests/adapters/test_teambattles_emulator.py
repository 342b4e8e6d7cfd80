"""The TeamBattles adapter against the emulator over real HTTP: offers, requests and their
statuses, every error mapping, idempotent retries, rate limiting, and a key that never shows.

Keys are the demo scenario's (lobby/emulator/scenarios/demo.json): "you" leads Night Owls
(captain) and Paper Tigers (co-captain); the bots lead the teams that post matches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from importlib import resources
from pathlib import Path

import httpx
import pytest

from lobby.core.answers import AcceptanceDraft, MatchStatus
from lobby.core.backend import MyRequest
from lobby.core.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Throttled,
)
from lobby.core.offers import OfferClosed, OfferKind, OfferUpdated
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.net.retry import RetryPolicy
from lobby.teambattles import rules
from lobby.teambattles import wire as m
from lobby.teambattles.backend import TeamBattlesBackend
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import check_key, load_api_key
from lobby.teambattles.requests import AcceptanceRecord, RequestStore
from lobby.teambattles.vocab import AcceptanceStatus

YOU = "tb_test_you_pro_personal_0001"
FREE = "tb_test_you_free_personal_0003"
READ_ONLY = "tb_test_you_readonly_0004"
EXPIRED = "tb_test_you_expired_0006"
REVOKED = "tb_test_you_revoked_0007"
DEV_APP = "tb_test_devapp_0009"
ADA = "tb_test_ada_member_0011"
REX = "tb_test_rex_captain_0013"
VIPER = "tb_test_viper_bot_0014"
CANARY = "tb_CANARY_never_print_me_0123456789"

OWLS_4 = ["u_you", "u_ada", "u_bo", "u_cy"]
WOLVES_4 = ["u_rex", "u_sam", "u_tom", "u_uma"]


def api(emulator: EmulatorThread) -> str:
    return emulator.url + "/api/v1"


def client_for(emulator: EmulatorThread, key: str, **kw) -> TeamBattlesClient:
    return TeamBattlesClient(api(emulator), check_key(key, "test"), **kw)


def acceptances(emulator: EmulatorThread, match_id: str | None = None) -> list[tuple[str, str, str]]:
    sql = "SELECT id, team_id, status FROM tb_acceptances"
    params: tuple[str, ...] = ()
    if match_id is not None:
        sql += " WHERE match_id = ?"
        params = (match_id,)
    return [tuple(r) for r in emulator.runtime.store.query(sql + " ORDER BY seq", params)]


class Creator:
    """The other side, driven with its own key over raw HTTP."""

    def __init__(self, emulator: EmulatorThread, key: str) -> None:
        self.http = httpx.Client(base_url=api(emulator), headers={"Authorization": f"Bearer {key}"})

    def post(self, path: str, body: dict | None = None) -> dict:
        answer = self.http.post(path, json=body or {})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def approve(self, match_id: str, acceptance_id: str) -> None:
        self.post(f"/matches/{match_id}/acceptances/{acceptance_id}/approve")

    def decline(self, match_id: str, acceptance_id: str) -> None:
        self.post(f"/matches/{match_id}/acceptances/{acceptance_id}/decline", {"responseMessage": "Not today."})

    def cancel(self, match_id: str) -> None:
        self.post(f"/matches/{match_id}/cancel", {"reason": "Roster trouble."})


@pytest.fixture
def viper(emulator: EmulatorThread) -> Iterator[Creator]:
    creator = Creator(emulator, VIPER)
    yield creator
    creator.http.close()


@pytest.fixture
async def backend(emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TeamBattlesBackend]:
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    key = load_api_key("emulator", None, keyring_lookup=None)
    b = TeamBattlesBackend(
        TeamBattlesClient(api(emulator), key),
        requests=RequestStore("emulator"),
        user="you",
        feed_url=emulator.url,
    )
    yield b
    await b.aclose()


# --- offers ----------------------------------------------------------------------------------------


async def test_offers_are_open_matches_of_my_games_and_challenges_to_teams_i_lead(backend: TeamBattlesBackend) -> None:
    offers = {o.id: o for o in await backend.list_offers()}
    challenges = {i for i, o in offers.items() if o.kind is OfferKind.TEAMBATTLES_CHALLENGE}
    assert challenges == {"tbm_vipers_challenge_owls", "tbm_tide_challenge_tigers"}
    assert {"tbm_vipers_hp", "tbm_tide_siege", "tbm_ghosts_circuit", "tbm_wolves_open"} <= set(offers)
    # Not offers: my own match, a draft, arranged and running matches.
    assert not {"tbm_owls_open", "tbm_foxes_draft", "tbm_owls_vs_foxes", "tbm_tigers_live"} & set(offers)
    # Not a participant: the match is read from the discover listing, as anyone may.
    match = next(x for x in await backend.client.discover_all() if x.id == "tbm_vipers_hp")
    hp = offers["tbm_vipers_hp"]
    assert hp.deadline == match.scheduled_at and hp.facts["teamSize"] == "4"
    assert hp.facts["creatorTeam"] == "Crimson Vipers" and hp.facts["mode"] == "hardpoint"
    deadlines = [o.deadline for o in offers.values()]
    assert deadlines == sorted(deadlines)


async def test_without_knowing_the_user_offers_are_every_open_match(backend: TeamBattlesBackend) -> None:
    backend.user = None
    offers = {o.id: o.kind for o in await backend.list_offers()}
    # Challenges come from my teams' own matches: without knowing who I am there are none to list.
    assert "tbm_vipers_challenge_owls" not in offers
    assert "tbm_owls_open" not in offers and "tbm_vipers_hp" in offers


async def test_typed_reads_and_cursor_paging(backend: TeamBattlesBackend) -> None:
    client = backend.client
    catalog = await client.games()
    assert {g.id for g in catalog.games} >= {"skyline-strike", "iron-tide"}
    members = await client.team_members("night-owls")
    assert members[0].role == "CAPTAIN" and members[0].user.id == "u_you"
    teams = {t.id: t.role for t in await client.user_teams("you")}
    assert teams["t_owls"] == "CAPTAIN" and teams["t_tigers"] == "CO_CAPTAIN"
    assert (await client.team("night-owls")).id == "t_owls"
    one_by_one = [x.id async for x in client.user_matches(m.MatchesRequestBody(num_items=1))]
    all_at_once = [x.id async for x in client.user_matches(m.MatchesRequestBody(num_items=100))]
    assert len(one_by_one) > 2 and one_by_one == all_at_once
    small_pages = await client.discover_all(m.MatchDiscoverBody(limit=2))
    assert [x.id for x in small_pages] == [x.id for x in await client.discover_all()]
    players = await client.match_players("tbm_owls_vs_foxes")
    assert {p.roster_type for p in players} <= {"ACTIVE", "BENCH"} and players
    assert {x.id for x in await client.ongoing_matches()} >= {"tbm_owls_vs_foxes"}


# --- submitting ------------------------------------------------------------------------------------


async def test_accept_sends_the_request_and_remembers_it(backend: TeamBattlesBackend, emulator: EmulatorThread) -> None:
    draft = AcceptanceDraft.build(
        "night-owls", ["you", "ada", "bo", "cy"], bench=[("dee", 1)], map_mode="VETO",
        selected_maps=["harbor"], message="Good luck!",
    )
    said = await backend.accept("tbm_vipers_hp", draft)
    [(acceptance_id, team_id, status)] = acceptances(emulator, "tbm_vipers_hp")
    assert acceptance_id in said and (team_id, status) == ("t_owls", "PENDING")
    [record] = RequestStore("emulator").all()  # a fresh store: what survives a restart
    assert (record.acceptance_id, record.match_id, record.team_id) == (acceptance_id, "tbm_vipers_hp", "t_owls")
    assert record.status is AcceptanceStatus.PENDING
    assert record.payload == {
        "teamId": "t_owls", "activeRoster": OWLS_4, "benchRoster": [{"id": "u_dee", "priority": 1.0}],
        "mapPreferenceMode": "VETO", "selectedMaps": ["harbor"], "message": "Good luck!",
    }


@pytest.mark.parametrize(
    ("draft", "expected"),
    [
        (AcceptanceDraft.build("night-owls", ["you", "ada", "bo"]), ["4 a side", "names 3"]),
        (
            AcceptanceDraft.build("night-owls", ["you", "ada", "bo", "rex"], map_mode="PREFERRED", selected_maps=["orbital"]),
            ["rex is not an active member", "'orbital' is not released"],
        ),
        (AcceptanceDraft.build("lone-wolves", ["you", "sam", "tom", "uma"]), ["Only a captain"]),
        (AcceptanceDraft.build("night-owls", OWLS_4, selected_maps=["harbor"]), ["mapPreferenceMode"]),
        (AcceptanceDraft.build("night-owls", OWLS_4, message="x" * 501), ["501 characters"]),
    ],
    ids=["roster-size", "member-and-map", "not-leader", "maps-without-mode", "long-message"],
)
async def test_a_draft_that_breaks_a_rule_is_explained_and_not_sent(
    backend: TeamBattlesBackend, emulator: EmulatorThread, draft: AcceptanceDraft, expected: list[str]
) -> None:
    with pytest.raises(InvalidRequest) as info:
        await backend.accept("tbm_vipers_hp", draft)
    assert info.value.message.startswith("Not sent:")
    for words in expected:
        assert words in info.value.message
    assert acceptances(emulator) == [] and RequestStore("emulator").all() == []


async def test_a_second_request_of_the_same_team_is_stopped_before_sending(backend: TeamBattlesBackend, emulator: EmulatorThread) -> None:
    await backend.submit("tbm_vipers_hp", AcceptanceDraft.build("t_owls", OWLS_4))
    with pytest.raises(InvalidRequest, match="already has a request pending"):
        await backend.submit("tbm_vipers_hp", AcceptanceDraft.build("t_owls", OWLS_4))
    assert len(acceptances(emulator)) == 1


async def test_an_organization_owner_off_the_roster_is_left_to_the_service(backend: TeamBattlesBackend, emulator: EmulatorThread) -> None:
    # "you" own Owl Academy's organization without being on the team, so its roster is hidden
    # from your key: the client cannot judge it and lets the service decide.
    record = await backend.submit("tbm_vipers_hp", AcceptanceDraft.build("owl-academy", ["u_sam", "u_tom", "u_uma", "u_vi"]))
    assert acceptances(emulator) == [(record.acceptance_id, "t_academy", "PENDING")]


async def test_a_team_the_service_refused_as_banned_is_marked_and_refused_here_after(
    backend: TeamBattlesBackend, emulator: EmulatorThread
) -> None:
    # No route says a team is banned from competitive play: the service's refusal is the
    # first the client hears of it. From then on the form marks the team (its facts say so)
    # and a draft of it is refused here, with the service's reason, without a second call.
    draft = AcceptanceDraft.build("t_anchors", ["u_you", "u_ada", "u_bo", "u_cy"])
    await backend.list_offers()
    desk = backend.capabilities.acceptance
    assert desk is not None
    anchors = [f for f in await desk.acceptance_facts("tbm_vipers_hp") if f.team.id == "t_anchors"]
    assert [f.team.competitive_banned for f in anchors] == [False]
    with pytest.raises(PermissionDenied, match="banned from competitive play") as first:
        await backend.submit("tbm_vipers_hp", draft)
    assert first.value.code == "error_competitive_banned"
    facts = {f.team.id: f for f in await desk.acceptance_facts("tbm_vipers_hp")}
    assert facts["t_anchors"].team.competitive_banned and not facts["t_owls"].team.competitive_banned
    banned = desk.violations(AcceptanceDraft.build("t_anchors", ()), facts["t_anchors"], backend.clock.now())
    assert [v.details for v in banned if v.field == "teamId"] == ["Rusty Anchors is banned from competitive play."]
    with pytest.raises(InvalidRequest, match="Not sent: Rusty Anchors is banned from competitive play"):
        await backend.submit("tbm_foxes_ctrl", draft)
    assert acceptances(emulator) == []


class Counting(httpx.AsyncBaseTransport):
    """Forwards every request over a real connection and notes its method and path."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def rule_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each run of a whole rule check on the client, by name: the real functions, counted where
    a check starts (a check that runs another as its part counts once). The emulator, serving
    from its own thread, checks too; those runs are its own."""
    runs: list[str] = []
    depth = [0]
    client_thread = threading.get_ident()
    for name in ("check_acceptance", "check_challenge_response", "check_challenge_refusal"):
        real = getattr(rules, name)

        def counted(*args, _real=real, _name=name, **kw):  # type: ignore[no-untyped-def]
            if threading.get_ident() != client_thread:
                return _real(*args, **kw)
            if not depth[0]:
                runs.append(_name)
            depth[0] += 1
            try:
                return _real(*args, **kw)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(rules, name, counted)
    return runs


async def test_a_send_after_the_form_checks_the_draft_once_and_asks_the_service_once(
    emulator: EmulatorThread, rule_checks: list[str]
) -> None:
    transport = Counting()
    backend = TeamBattlesBackend(client_for(emulator, YOU, transport=transport), requests=RequestStore("emulator"), user="you")
    draft = AcceptanceDraft.build("t_owls", OWLS_4)
    async with backend:
        await backend.list_offers()
        desk = backend.capabilities.acceptance
        offered = {f.team.id: f for f in desk.offered(await desk.acceptance_facts("tbm_vipers_hp"))}
        owls = offered["t_owls"]  # the form, shown for Night Owls
        assert desk.violations(draft, owls, backend.client.now()) == []
        transport.seen.clear()
        rule_checks.clear()
        said = await backend.accept("tbm_vipers_hp", draft)
    assert transport.seen == ["POST /api/v1/matches/tbm_vipers_hp/accept"]
    assert rule_checks == ["check_acceptance"]
    [(acceptance_id, _, _)] = acceptances(emulator, "tbm_vipers_hp")
    assert acceptance_id in said


async def test_answering_a_challenge_after_the_form_asks_the_service_once(
    emulator: EmulatorThread, rule_checks: list[str]
) -> None:
    transport = Counting()
    backend = TeamBattlesBackend(client_for(emulator, YOU, transport=transport), requests=RequestStore("emulator"), user="you")
    async with backend:
        await backend.list_offers()
        desk = backend.capabilities.acceptance
        for match_id in ("tbm_vipers_challenge_owls", "tbm_tide_challenge_tigers"):
            desk.offered(await desk.acceptance_facts(match_id))
        transport.seen.clear()
        rule_checks.clear()
        assert "refused" in await backend.reject("tbm_vipers_challenge_owls", "Busy that night.")
        assert "accepted" in await backend.accept("tbm_tide_challenge_tigers", AcceptanceDraft.build("t_tigers", ["u_you", "u_lu"]))
    assert transport.seen == [
        "POST /api/v1/matches/tbm_vipers_challenge_owls/challenges/refuse",
        "POST /api/v1/matches/tbm_tide_challenge_tigers/challenges/accept",
    ]
    assert rule_checks == ["check_challenge_refusal", "check_challenge_response"]


# --- errors from the service -----------------------------------------------------------------------


BODY = m.AcceptMatchRequestBody(team_id="t_owls", active_roster=OWLS_4)


@pytest.mark.parametrize(
    ("key", "cls", "code", "words"),
    [
        (CANARY, AuthenticationFailed, "error_api_key_invalid", "does not recognise"),
        (EXPIRED, AuthenticationFailed, "error_api_key_expired", "expired"),
        (REVOKED, AuthenticationFailed, "error_api_key_invalid", "revoked"),
        (FREE, PermissionDenied, "error_api_feature_required", "Pro or higher"),
        (READ_ONLY, PermissionDenied, "error_api_key_permission_denied", "personal key"),
        (DEV_APP, PermissionDenied, "error_api_key_permission_denied", "personal key"),
        (ADA, PermissionDenied, "error_not_team_leader", "captain"),
    ],
    ids=["unknown", "expired", "revoked", "free-plan", "missing-scope", "developer-app", "not-leader"],
)
async def test_auth_and_permission_failures(emulator: EmulatorThread, key: str, cls: type, code: str, words: str) -> None:
    async with client_for(emulator, key) as client:
        with pytest.raises(cls) as info:
            await client.create_acceptance("tbm_vipers_hp", BODY)
    assert info.value.code == code and words in info.value.message
    assert acceptances(emulator) == []


async def test_both_permission_denied_spellings_from_the_service_mean_the_same(emulator: EmulatorThread) -> None:
    raw = {}
    for key in (READ_ONLY, DEV_APP):
        answer = httpx.post(f"{api(emulator)}/matches/tbm_vipers_hp/accept", json=BODY.wire(), headers={"Authorization": f"Bearer {key}"})
        raw[key] = answer.json()["error"]
    # The service's enum has one spelling; the pages also print API_KEY_PERMISSION_DENIED, which
    # the client reads the same (tests/unit). The emulator answers the enum's.
    assert raw == {READ_ONLY: "error_api_key_permission_denied", DEV_APP: "error_api_key_permission_denied"}
    errors = []
    for key in (READ_ONLY, DEV_APP):
        async with client_for(emulator, key) as client:
            with pytest.raises(PermissionDenied) as info:
                await client.create_acceptance("tbm_vipers_hp", BODY)
        errors.append(info.value)
    assert errors[0].code == errors[1].code and errors[0].message == errors[1].message


async def test_not_found_conflict_and_invalid(emulator: EmulatorThread) -> None:
    async with client_for(emulator, YOU) as client:
        with pytest.raises(NotFound) as nf:
            await client.get_match("tbm_does_not_exist")
        assert nf.value.status == 404 and nf.value.code == "error_match_not_found"

        too_small = m.AcceptMatchRequestBody(team_id="t_owls", active_roster=["u_you"])
        with pytest.raises(InvalidRequest) as bad:
            await client.create_acceptance("tbm_vipers_hp", too_small)
        assert bad.value.code == "error_roster_too_small" and bad.value.status == 400
        assert bad.value.details  # type: ignore[attr-defined]

        await client.create_acceptance("tbm_vipers_hp", BODY)
        with pytest.raises(Conflict) as dup:
            await client.create_acceptance("tbm_vipers_hp", BODY)
        assert dup.value.code == "error_acceptance_already_pending"

        await client.create_acceptance("tbm_vipers_snd", BODY, idempotency_key="same-key")
        other = m.AcceptMatchRequestBody(team_id="t_owls", active_roster=OWLS_4, message="changed")
        with pytest.raises(Conflict) as reuse:
            await client.create_acceptance("tbm_vipers_snd", other, idempotency_key="same-key")
        assert reuse.value.code == "error_idempotency_key_conflict"
    assert len(acceptances(emulator)) == 2


# --- idempotent retries ------------------------------------------------------------------------------


class LoseFirstAnswer(httpx.AsyncBaseTransport):
    """Forwards every request over a real connection, but loses the answer to the first
    submission after the server has processed it: the connection "drops" on the way back."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.keys: list[str | None] = []
        self.dropped = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/accept"):
            self.keys.append(request.headers.get("idempotency-key"))
            if not self.dropped:
                await response.aread()
                await response.aclose()
                self.dropped += 1
                raise httpx.ReadError("connection reset by peer", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_lost_answer_is_retried_with_the_same_key_and_applied_once(emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch) -> None:
    transport = LoseFirstAnswer()
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = client_for(emulator, YOU, transport=transport, sleep=sleep)
    backend = TeamBattlesBackend(client, requests=RequestStore("emulator"), user="you")
    async with backend:
        record = await backend.submit("tbm_vipers_hp", AcceptanceDraft.build("night-owls", ["you", "ada", "bo", "cy"]))
    assert transport.dropped == 1 and len(sleeps) == 1
    assert len(transport.keys) == 2 and transport.keys[0] == transport.keys[1] == record.idempotency_key
    assert acceptances(emulator) == [(record.acceptance_id, "t_owls", "PENDING")]
    assert [r.acceptance_id for r in RequestStore("emulator").all()] == [record.acceptance_id]


def _tight_scenario(tmp_path: Path) -> Path:
    scenario = json.loads(resources.files("lobby.emulator.scenarios").joinpath("demo.json").read_text())
    scenario["teambattles"]["rate_limits"] = {"pro": {"burst": 3, "per_second": 0.05}}
    path = tmp_path / "tight.json"
    path.write_text(json.dumps(scenario))
    return path


async def test_throttling_waits_for_retry_after_with_the_same_key(tmp_path: Path) -> None:
    with EmulatorThread(EmulatorConfig(scenario=_tight_scenario(tmp_path))) as emu:
        keys: list[str | None] = []
        sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)

        def record(request: httpx.Request) -> None:
            keys.append(request.headers.get("idempotency-key"))

        inner = httpx.AsyncHTTPTransport()

        class Watch(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                record(request)
                return await inner.handle_async_request(request)

        policy = RetryPolicy(max_attempts=2, max_retry_after=120)
        async with client_for(emu, YOU, transport=Watch(), sleep=sleep, retry=policy) as client:
            for _ in range(3):
                await client.get_match("tbm_owls_vs_foxes")  # a match of my team: mine to read
            assert client.pacer.state.remaining == 0 and client.pacer.wait_needed() > 0
            keys.clear()
            with pytest.raises(Throttled) as info:
                await client.create_acceptance("tbm_vipers_hp", BODY)
        await inner.aclose()
    err = info.value
    assert err.code == "error_api_rate_limited" and err.status == 429
    assert err.retry_after is not None and err.retry_after > 0
    assert sleeps == [err.retry_after]  # the hint was honoured before the one retry
    assert len(keys) == 2 and keys[0] == keys[1]


# --- the key never shows ------------------------------------------------------------------------------


async def test_the_key_never_appears_in_errors_reprs_or_logs(emulator: EmulatorThread, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = client_for(emulator, CANARY)
    backend = TeamBattlesBackend(client, requests=RequestStore("emulator"), user="you")
    texts = [repr(client), str(client), repr(backend), repr(client._key)]
    for call in (backend.list_offers(), backend.accept("tbm_vipers_hp", AcceptanceDraft.build("t_owls", OWLS_4))):
        with pytest.raises(AuthenticationFailed) as info:
            await call
        texts += [str(info.value), repr(info.value), info.value.message, str(info.value.details)]  # type: ignore[attr-defined]
    await backend.aclose()
    texts += [r.getMessage() for r in caplog.records]
    assert not [t for t in texts if CANARY in t]


# --- my requests: statuses -------------------------------------------------------------------------------


async def _request(backend: TeamBattlesBackend, match_id: str = "tbm_vipers_hp") -> AcceptanceRecord:
    return await backend.submit(match_id, AcceptanceDraft.build("night-owls", OWLS_4))


async def test_approved(backend: TeamBattlesBackend, viper: Creator) -> None:
    mine = await _request(backend)
    viper.approve("tbm_vipers_hp", mine.acceptance_id)
    [record] = await backend.refresh_requests()
    assert record.status is AcceptanceStatus.APPROVED


async def _settled_while_following(backend: TeamBattlesBackend, act) -> MyRequest:
    """Follow the event stream, do ``act``, and return my request once it is no longer PENDING:
    a match my team is not in is not mine to read, so the events say what became of it."""
    seen: asyncio.Queue[MyRequest] = asyncio.Queue()
    backend.capabilities.requests.subscribe(seen.put_nowait)

    async def follow() -> None:
        async for _change in backend.changes():
            pass

    task = asyncio.create_task(follow())
    try:
        await asyncio.wait_for(backend.feed_live.wait(), 10)
        act()
        while True:
            record = await asyncio.wait_for(seen.get(), 10)
            if record.status is not AcceptanceStatus.PENDING:
                return record
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_superseded_when_another_team_is_approved(backend: TeamBattlesBackend, emulator: EmulatorThread, viper: Creator) -> None:
    mine = await _request(backend)
    async with client_for(emulator, REX) as rex:
        theirs = await rex.create_acceptance("tbm_vipers_hp", m.AcceptMatchRequestBody(team_id="t_wolves", active_roster=WOLVES_4))
    record = await _settled_while_following(backend, lambda: viper.approve("tbm_vipers_hp", theirs.acceptance_id))
    assert record.acceptance_id == mine.acceptance_id
    assert record.status is AcceptanceStatus.SUPERSEDED and "Lone Wolves" in (record.note or "")


async def test_cancelled_by_the_creator(backend: TeamBattlesBackend, viper: Creator) -> None:
    await _request(backend)
    record = await _settled_while_following(backend, lambda: viper.cancel("tbm_vipers_hp"))
    assert record.status is AcceptanceStatus.CANCELLED


async def test_cancelled_when_the_start_passes_unanswered(backend: TeamBattlesBackend, emulator: EmulatorThread) -> None:
    await _request(backend)

    def jump() -> None:
        assert httpx.post(emulator.url + "/_emulator/clock", json={"advanceSeconds": 31 * 60}).status_code == 200

    record = await _settled_while_following(backend, jump)
    assert record.status is AcceptanceStatus.CANCELLED


async def test_declined_is_learned_from_the_event_stream(backend: TeamBattlesBackend, viper: Creator) -> None:
    mine = await _request(backend)
    seen: asyncio.Queue[MyRequest] = asyncio.Queue()
    backend.capabilities.requests.subscribe(seen.put_nowait)
    changes: list[object] = []

    async def follow() -> None:
        async for change in backend.changes():
            changes.append(change)

    task = asyncio.create_task(follow())
    try:
        await asyncio.wait_for(backend.feed_live.wait(), 10)  # following before the creator answers
        viper.decline("tbm_vipers_hp", mine.acceptance_id)
        record = await asyncio.wait_for(seen.get(), 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert record.status is AcceptanceStatus.DECLINED and "Not today." in (record.note or "")
    # The match alone still looks open: refreshing keeps what the stream said.
    [again] = await backend.refresh_requests()
    assert again.status is AcceptanceStatus.DECLINED


async def test_a_request_sent_from_another_terminal_is_followed_and_its_decision_pushed(
    backend: TeamBattlesBackend, emulator: EmulatorThread, viper: Creator
) -> None:
    # `lobby accept-match` in a second terminal records its request in the same store; the
    # console, already following the stream, learns it there when an event names it.
    await backend.list_offers()
    other = TeamBattlesBackend(client_for(emulator, YOU), requests=RequestStore("emulator"), user="you")
    async with other:
        theirs = await other.submit("tbm_vipers_hp", AcceptanceDraft.build("night-owls", OWLS_4))
    assert backend.requests.get(theirs.acceptance_id) is None
    record = await _settled_while_following(backend, lambda: viper.approve("tbm_vipers_hp", theirs.acceptance_id))
    assert (record.acceptance_id, record.status) == (theirs.acceptance_id, AcceptanceStatus.APPROVED)
    assert [r.acceptance_id for r in backend.capabilities.requests.current()] == [theirs.acceptance_id]


@contextlib.asynccontextmanager
async def _following(backend: TeamBattlesBackend) -> AsyncIterator[asyncio.Queue[object]]:
    """The backend's changes, in a queue, while the block runs (entered once the feed is live)."""
    await backend.list_offers()
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def follow() -> None:
        async for change in backend.changes():
            queue.put_nowait(change)

    task = asyncio.create_task(follow())
    try:
        await asyncio.wait_for(backend.feed_live.wait(), 10)
        yield queue
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_changes_follow_the_event_stream(backend: TeamBattlesBackend, emulator: EmulatorThread, viper: Creator) -> None:
    async with _following(backend) as queue:
        viper.cancel("tbm_vipers_snd")
        async with client_for(emulator, VIPER) as creator:
            created = await creator.create_match(
                m.CreateMatchRequestBody(
                    team_id="t_vipers", game_id="gm_skyline", game_mode_id="control", match_type="XP_ONLY",
                    map_selection_type="FLEX", map_preference_mode="PREFERRED", team_size=4, best_of=1,
                    scheduled_at=(backend.client.now().timestamp() + 3600) * 1000,
                    active_roster=["bot_viper", "u_vp1", "u_vp2", "u_vp3"], publish_status="PUBLISHED",
                )
            )
        closed = await asyncio.wait_for(queue.get(), 10)
        opened = await asyncio.wait_for(queue.get(), 10)
    assert isinstance(closed, OfferClosed) and closed.id == "tbm_vipers_snd" and closed.status == "CANCELLED"
    assert isinstance(opened, OfferUpdated) and opened.offer.id == created.match_id
    assert opened.offer.kind is OfferKind.TEAMBATTLES_MATCH and opened.event_id


# --- challenges ------------------------------------------------------------------------------------------


async def test_a_challenge_refused_elsewhere_closes_as_refused_not_cancelled(
    backend: TeamBattlesBackend, emulator: EmulatorThread
) -> None:
    async with _following(backend) as queue:
        other = TeamBattlesBackend(client_for(emulator, YOU), requests=RequestStore("emulator"), user="you")
        async with other:
            await other.reject("tbm_vipers_challenge_owls", "Busy that night.")
        closed = await asyncio.wait_for(queue.get(), 10)
    assert isinstance(closed, OfferClosed) and closed.id == "tbm_vipers_challenge_owls"
    assert closed.outcome == "Night Owls refused the challenge."


async def test_challenges_are_accepted_or_refused(backend: TeamBattlesBackend, viper: Creator) -> None:
    said = await backend.accept("tbm_tide_challenge_tigers", AcceptanceDraft.build("paper-tigers", ["you", "lu"]))
    assert "accepted" in said
    match = await backend.client.get_match("tbm_tide_challenge_tigers")
    assert match.status == MatchStatus.ACCEPTED and match.accepted_team and match.accepted_team.id == "t_tigers"

    assert "refused" in await backend.reject("tbm_vipers_challenge_owls", "Busy that night.")
    # Once refused, the challenge is no longer the challenged team's to read; its creator reads it.
    refused = m.MatchDetailResponse.model_validate(viper.http.get("/matches/tbm_vipers_challenge_owls").json()).match
    assert refused.status != MatchStatus.PENDING or refused.challenged_team is None

    with pytest.raises(InvalidRequest, match="nothing to refuse"):
        await backend.reject("tbm_vipers_hp", None)

"""The moderator's board, fed events shaped exactly as the emulator and AWS send them."""

from __future__ import annotations

import json
import random

import pytest
from synthetic import (
    SyntheticLobby,
    flexmatch_event,
    match_doc,
    sns_wrap,
    teambattles_event,
)

from lobby.flexmatch.lifecycle import EventType
from lobby.moderation import Board, Column, TableModel, unwrap
from lobby.moderation.rows import FINAL_STATUSES, Kind
from lobby.moderation.stats import Stats, percentile

T0 = 1_767_268_800.0  # 2026-01-01 12:00:00 UTC

ANA = ("t-ana", T0 - 30, [("ana", None, None), ("bo", None, None)])
CY = ("t-cy", T0 - 10, [("cy", None, None)])


def ev(kind: str, uid: str, at: float, tickets, **detail):
    return unwrap(flexmatch_event(kind, uid=uid, time=at, tickets=tickets, **detail))


def teamed(ticket, team, answers=None):
    ticket_id, start, players = ticket
    return (ticket_id, start, [(p, team, (answers or {}).get(p)) for p, _, _ in players])


def proposal(board: Board, at: float = T0, match_id: str = "m-1") -> None:
    board.apply(ev(EventType.SEARCHING, "e1", T0 - 30, [ANA]))
    board.apply(ev(EventType.SEARCHING, "e2", T0 - 10, [CY]))
    board.apply(
        ev(
            EventType.POTENTIAL_MATCH_CREATED,
            "e3",
            at,
            [teamed(ANA, "red"), teamed(CY, "blue")],
            matchId=match_id,
            acceptanceRequired=True,
            acceptanceTimeout=45,
        )
    )


def answer(board: Board, uid: str, at: float, answers: dict[str, bool], match_id: str = "m-1") -> None:
    board.apply(
        ev(EventType.ACCEPT_MATCH, uid, at, [teamed(ANA, "red", answers), teamed(CY, "blue", answers)], matchId=match_id)
    )


def row(board: Board, ticket_id: str):
    found = board.get((Kind.TICKET, ticket_id))
    assert found is not None
    return found


# --- unwrapping ---------------------------------------------------------------------------------


def test_unwrap_reads_every_carrier():
    envelope = flexmatch_event(EventType.SEARCHING, uid="eb-1", time=T0, tickets=[ANA])
    raw = unwrap(envelope)
    assert raw is not None
    assert (raw.uid, raw.source, raw.type, raw.time, raw.configuration) == (
        "eb-1",
        "aws.gamelift",
        "MatchmakingSearching",
        T0,
        "ranked-5v5",
    )
    wrapped = unwrap(json.dumps(sns_wrap(envelope, message_id="sns-1", time=T0 + 1)))
    assert wrapped == raw  # SNS-wrapped: the same event, the same id
    tb = unwrap(teambattles_event("match.created", uid="whd_1", time=T0, match=match_doc("tbm_1", created=T0)))
    assert tb is not None and (tb.uid, tb.source, tb.type) == ("whd_1", "teambattles", "match.created")
    no_id = dict(envelope)
    del no_id["id"]
    assert unwrap(no_id, fallback_id="emulator:7").uid == "emulator:7"
    assert unwrap(no_id) is None
    for junk in ("not json", [], {"source": "aws.ec2", "detail": {}}, {"event": "x"}, 42):
        assert unwrap(junk) is None


# --- FlexMatch tickets --------------------------------------------------------------------------


def test_a_ticket_through_its_whole_life():
    board = Board()
    proposal(board)
    ana = row(board, "t-ana")
    assert ana.status == "REQUIRES_ACCEPTANCE"
    assert ana.group == "ranked-5v5"
    assert (ana.accepted, ana.total) == (0, 3)
    assert ana.deadline == T0 + 45
    assert ana.created == T0 - 30 and ana.status_since == T0
    assert ana.players == {"ana": "red", "bo": "red"} and ana.teams == ("red",)
    assert ana.match_id == "m-1"

    answer(board, "e4", T0 + 5, {"ana": True})
    answer(board, "e5", T0 + 6, {"ana": True, "bo": True})
    assert (row(board, "t-cy").accepted, row(board, "t-cy").total) == (2, 3)  # a match-wide figure
    answer(board, "e6", T0 + 7, {"ana": True, "bo": True, "cy": True})
    board.apply(
        ev(EventType.ACCEPT_MATCH_COMPLETED, "e7", T0 + 7, [teamed(ANA, "red"), teamed(CY, "blue")], matchId="m-1", acceptance="Accepted")
    )
    assert row(board, "t-ana").status == "PLACING" and row(board, "t-ana").deadline is None
    board.apply(
        ev(
            EventType.SUCCEEDED,
            "e8",
            T0 + 9,
            [teamed(ANA, "red"), teamed(CY, "blue")],
            matchId="m-1",
            gameSessionInfo={"ipAddress": "10.1.2.3", "port": 7777, "players": []},
        )
    )
    ana = row(board, "t-ana")
    assert ana.status == "COMPLETED" and not ana.live
    assert [e.type for e in board.timeline(ana.key)] == [
        "MatchmakingSearching",
        "PotentialMatchCreated",
        "AcceptMatch",
        "AcceptMatch",
        "AcceptMatch",
        "AcceptMatchCompleted",
        "MatchmakingSucceeded",
    ]
    assert board.timeline(ana.key)[-1].text == "Match ready at 10.1.2.3:7777."
    snap = board.snapshot(T0 + 10)
    assert snap.accepted == 1 and snap.acceptance_rate == 1.0
    assert snap.finished == {"COMPLETED": 2}
    assert snap.median_to_match == 10.0 and snap.p95_to_match == 30.0  # t-cy waited 10 s, t-ana 30 s
    assert snap.live == {}


def test_a_rejection_follows_the_domain_rule_until_the_service_confirms():
    board = Board()
    proposal(board)
    answer(board, "e4", T0 + 2, {"cy": True})
    answer(board, "e5", T0 + 3, {"cy": True, "ana": False})
    board.apply(
        ev(EventType.ACCEPT_MATCH_COMPLETED, "e6", T0 + 3, [teamed(ANA, "red"), teamed(CY, "blue")], matchId="m-1", acceptance="Rejected")
    )
    ana, cy = row(board, "t-ana"), row(board, "t-cy")
    # after_dropped_match: every player of t-cy accepted, so it searches again; t-ana is out.
    assert cy.status == "SEARCHING" and cy.live
    assert ana.status == "CANCELLED" and ana.provisional
    assert board.snapshot(T0 + 4).finished == {}  # not counted until the service says so
    board.apply(ev(EventType.CANCELLED, "e7", T0 + 3, [ANA], reason="CANCELLED", message="A player rejected."))
    ana = row(board, "t-ana")
    assert not ana.provisional and ana.reason == "CANCELLED; A player rejected."
    snap = board.snapshot(T0 + 4)
    assert (snap.rejected, snap.accepted, snap.acceptance_rate) == (1, 0, 0.0)
    assert snap.finished == {"CANCELLED": 1}
    assert snap.live == {"SEARCHING": 1}


def test_a_timed_out_round_counts_as_an_acceptance_timeout():
    board = Board()
    proposal(board)
    board.apply(
        ev(EventType.ACCEPT_MATCH_COMPLETED, "e4", T0 + 45, [teamed(ANA, "red"), teamed(CY, "blue")], matchId="m-1", acceptance="TimedOut")
    )
    board.apply(ev(EventType.CANCELLED, "e5", T0 + 45, [ANA], reason="TIMEOUT"))
    board.apply(ev(EventType.CANCELLED, "e6", T0 + 45, [CY], reason="TIMEOUT"))
    snap = board.snapshot(T0 + 50)
    assert (snap.timed_out, snap.rejected, snap.rounds) == (1, 0, 1)
    assert snap.finished == {"CANCELLED": 2}


def test_each_event_is_applied_once():
    board = Board()
    first = ev(EventType.SEARCHING, "same-id", T0, [ANA])
    assert board.apply(first) is True
    assert board.apply(first) is False
    assert board.apply(unwrap(sns_wrap(flexmatch_event(EventType.SEARCHING, uid="same-id", time=T0, tickets=[ANA]), message_id="m", time=T0))) is False
    assert (board.applied, board.duplicates) == (1, 2)
    assert len(board.timeline((Kind.TICKET, "t-ana"))) == 1


def test_late_events_never_move_a_row_back():
    board = Board()
    board.apply(
        ev(EventType.POTENTIAL_MATCH_CREATED, "e3", T0, [teamed(ANA, "red")], matchId="m-1", acceptanceRequired=True, acceptanceTimeout=45)
    )
    board.apply(ev(EventType.SEARCHING, "e1", T0 - 30, [ANA]))  # delivered late
    ana = row(board, "t-ana")
    assert ana.status == "REQUIRES_ACCEPTANCE"
    assert [e.type for e in board.timeline(ana.key)] == ["MatchmakingSearching", "PotentialMatchCreated"]
    board.apply(ev(EventType.TIMED_OUT, "e9", T0 + 100, [ANA], reason="TIMEOUT"))
    board.apply(ev(EventType.SEARCHING, "e10", T0 + 200, [ANA]))  # a final status is final
    assert row(board, "t-ana").status == "TIMED_OUT"


def test_unknown_and_foreign_events_change_nothing():
    board = Board()
    assert not board.apply(ev(EventType.SEARCHING, "e1", T0, []))
    assert not board.apply(unwrap(teambattles_event("match.created", uid="w1", time=T0, match={"no": "id"})))
    assert len(board) == 0 and board.ignored == 2


def test_finished_rows_are_forgotten_after_a_while():
    board = Board(keep_finished=60)
    proposal(board)
    board.apply(ev(EventType.CANCELLED, "e4", T0 + 1, [ANA], reason="CANCELLED"))
    board.drain()
    assert board.prune(T0 + 30) == 0
    assert board.prune(T0 + 62) == 1
    assert board.get((Kind.TICKET, "t-ana")) is None
    assert board.drain() == {(Kind.TICKET, "t-ana")}
    assert board.get((Kind.TICKET, "t-cy")) is not None  # still live


# --- TeamBattles matches ------------------------------------------------------------------------


def test_a_teambattles_match_through_its_life():
    board = Board()
    open_doc = match_doc("tbm_1", created=T0 - 60, scheduled=T0 + 3600)

    def tb(kind, uid, at, doc=open_doc, **data):
        board.apply(unwrap(teambattles_event(kind, uid=uid, time=at, match=doc, **data)))

    tb("match.created", "w1", T0 - 60)
    tb("match.published", "w2", T0 - 60)
    key = (Kind.MATCH, "tbm_1")
    m = board.get(key)
    assert (m.status, m.group, m.deadline, m.teams) == ("PENDING", "Skyline Strike · hardpoint", T0 + 3600, ("Vipers",))
    tb("emulator.acceptance.created", "w3", T0, acceptance={"id": "acc_1", "teamId": "t_owls", "status": "PENDING"})
    tb("emulator.acceptance.created", "w4", T0 + 1, acceptance={"id": "acc_2", "teamId": "t_foxes", "status": "PENDING"})
    assert (board.get(key).accepted, board.get(key).total) == (0, 2)
    accepted = match_doc("tbm_1", status="ACCEPTED", accepted=("t_owls", "Night Owls"), created=T0 - 60, scheduled=T0 + 3600)
    tb("match.accepted", "w5", T0 + 2, accepted, acceptanceId="acc_1", acceptance={"id": "acc_1", "teamId": "t_owls", "status": "APPROVED"})
    tb(
        "roster.updated",
        "w6",
        T0 + 2,
        accepted,
        teamId="t_owls",
        players=[{"userId": "u_you", "username": "you"}, {"userId": "u_ada", "username": "ada"}],
    )
    m = board.get(key)
    assert (m.status, m.accepted, m.total, m.status_since) == ("ACCEPTED", 1, 2, T0 + 2)
    assert m.teams == ("Vipers", "Night Owls")
    assert m.player_list() == ["you", "ada"]
    assert {"t_owls", "t_foxes", "t_vipers"} <= set(m.team_ids)
    started = match_doc("tbm_1", status="IN_PROGRESS", accepted=("t_owls", "Night Owls"), created=T0 - 60, scheduled=T0 + 3600)
    tb("match.started", "w7", T0 + 3600, started)
    assert board.get(key).status == "IN_PROGRESS" and board.get(key).deadline is None and board.get(key).live
    assert [e.text for e in board.timeline(key)][:2] == ["Match created.", "Match published: open to challengers."]


def test_an_open_match_that_expires_is_final():
    board = Board()
    doc = match_doc("tbm_2", created=T0, scheduled=T0 + 60)
    board.apply(unwrap(teambattles_event("match.created", uid="w1", time=T0, match=doc)))
    cancelled = match_doc("tbm_2", status="CANCELLED", created=T0, scheduled=T0 + 60)
    board.apply(unwrap(teambattles_event("match.cancelled", uid="w2", time=T0 + 60, match=cancelled, reason="Nobody accepted.")))
    m = board.get((Kind.MATCH, "tbm_2"))
    assert (m.status, m.live, m.reason, m.deadline) == ("CANCELLED", False, "Nobody accepted.", None)
    assert board.snapshot(T0 + 61).finished == {"CANCELLED": 1}


# --- the window -----------------------------------------------------------------------------------


def test_figures_slide_with_the_window():
    stats = Stats(window=60, buckets=6)
    stats.round_ended(T0, "Accepted")
    stats.round_ended(T0 + 50, "Rejected")
    stats.matched(T0 + 50, 12.0)
    assert stats.snapshot(T0 + 55, {}).rounds == 2
    later = stats.snapshot(T0 + 61, {})
    assert (later.rounds, later.rejected, later.median_to_match) == (1, 1, 12.0)
    assert stats.snapshot(T0 + 200, {}).rounds == 0


def test_queue_depth_samples_fill_skipped_buckets():
    stats = Stats(window=60, buckets=6)  # 10 s buckets
    stats.sample_depth(T0, 5)
    stats.sample_depth(T0 + 3, 7)  # same bucket: the latest wins
    stats.sample_depth(T0 + 31, 2)
    assert stats.snapshot(T0 + 31, {}).queue == (7, 7, 7, 2)
    assert stats.snapshot(T0 + 1000, {}).queue == ()


def test_percentiles_are_nearest_rank():
    values = sorted(float(v) for v in range(1, 101))
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile([], 0.5) is None


# --- the table model ------------------------------------------------------------------------------


def test_the_table_sorts_by_deadline_and_hides_finished_rows():
    board = Board()
    proposal(board)
    board.apply(ev(EventType.SEARCHING, "s1", T0, [("t-dee", T0 - 5, [("dee", None, None)])]))
    board.apply(ev(EventType.CANCELLED, "c1", T0, [("t-eve", T0 - 5, [("eve", None, None)])], reason="CANCELLED"))
    model = TableModel(board)
    model.update()
    assert [r.id for r in model] == ["t-ana", "t-cy", "t-dee"]  # deadlines first, then the rest
    model.toggle_finished()
    model.update()
    assert "t-eve" in [r.id for r in model]
    model.set_sort(Column.AGE)
    model.update()
    assert [r.id for r in model][0] in ("t-dee", "t-eve")  # youngest first
    model.set_sort(Column.AGE)  # again: reversed
    assert [r.id for r in model][0] == "t-ana"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"t-ana", "t-cy"}),
        ("bo", {"t-ana"}),  # a player
        ("blue", {"t-cy"}),  # a team
        ("rnk5", {"t-ana", "t-cy"}),  # fuzzy, over the configuration
        ("t-c", {"t-cy"}),  # the id
        ("m-1 cy", {"t-cy"}),  # every word must match
        ("zzz", set()),
    ],
)
def test_the_filter_is_fuzzy_over_ids_players_teams_and_configurations(query, expected):
    board = Board()
    proposal(board)
    model = TableModel(board)
    model.set_query(query)
    model.update()
    assert {r.id for r in model} == expected


def test_incremental_updates_agree_with_a_fresh_sort():
    """However events arrive, the model moved row by row orders exactly as a full rebuild."""
    lobby = SyntheticLobby(live=300, rate=200, start=T0, seed=3)
    board = Board()
    board.apply_all(unwrap(p) for p in lobby.initial())
    rng = random.Random(5)
    model = TableModel(board, hidden=())
    model.set_query("p")
    model.update()
    for _ in range(15):
        board.apply_all(unwrap(p) for p in lobby.second())
        board.prune(lobby.now - 2)
        model.update()
        column = rng.choice(list(Column))
        fresh = TableModel(board, sort=model.sort, descending=model.descending, hidden=model.hidden)
        fresh.set_query(model.query)
        fresh.update()
        assert [r.key for r in model] == [r.key for r in fresh]
        for index in (0, len(model) // 2, len(model) - 1):
            assert model.index_of(model.row_at(index).key) == index
        model.set_sort(column, rng.random() < 0.5)
        model.set_hidden(rng.sample(sorted(FINAL_STATUSES), 2))


def test_a_new_order_is_made_in_slices_and_rows_changed_meanwhile_end_in_their_place():
    """A column whose order is not kept: its first rows are right at once, the rest is put in
    order a slice at a time while events go on changing rows, and the order made agrees with
    a plain sort of the rows as they are at the end. Likewise an order left before it was
    whole, and shown again."""
    lobby = SyntheticLobby(live=400, rate=300, start=T0, seed=11)
    board = Board()
    board.apply_all(unwrap(p) for p in lobby.initial())
    model = TableModel(board, hidden=())
    model.slice_from, model.chunk, model.head_rows = 50, 40, 25
    model.update()
    rng = random.Random(7)
    sliced = served = 0
    # New columns, and kept ones (some left before they were whole).
    for column in (Column.AGE, Column.GROUP, Column.AGE, Column.PLAYERS, Column.GROUP, Column.PROGRESS, Column.ID, Column.PROGRESS):
        model.set_sort(column, rng.random() < 0.5)
        model.update()
        while True:
            sliced += not model.settled
            fresh = TableModel(board, sort=model.sort, descending=model.descending, hidden=())
            fresh.update()
            if not model.settled:
                # The rows on screen, and where the cursor's row is if it is among them, are
                # right before the order is whole.
                assert [r.key for r in model.rows(0, 20)] == [r.key for r in fresh.rows(0, 20)]
                for r in fresh.rows(0, 20):
                    assert model.index_if_known(r.key) == (True, fresh.index_of(r.key))
                served += not model.settled  # known without making the whole order
            if rng.random() < 0.3:
                model.set_sort(column, not model.descending)  # reversed while being made
            board.apply_all(unwrap(p) for p in lobby.second())
            board.prune(lobby.now - 2)
            model.update()
            if not model.work(0.0):
                break
        model.update()
        plain = sorted(
            (r for r in board.rows.values()),
            key=lambda r: fresh_entry(model.sort, r),
        )
        expected = [r.key for r in plain if fresh_entry(model.sort, r)[0] == 0]
        missing = [r.key for r in plain if fresh_entry(model.sort, r)[0] == 1]
        if model.descending:
            expected.reverse()
        assert [r.key for r in model] == expected + missing
        for index in (0, len(model) // 2, len(model) - 1):
            assert model.index_of(model.row_at(index).key) == index
    assert sliced >= 8 and served >= 8  # made in slices, the first rows known meanwhile


def fresh_entry(column: Column, row):
    """A row's place in a plain sort by ``column``: (missing, value, id, kind)."""
    from lobby.moderation.view import _ENTRY

    return _ENTRY[column](row)

import pytest

from lobby.flexmatch.lifecycle import (
    TERMINAL,
    TRANSITIONS,
    AcceptanceOutcome,
    IllegalTransition,
    PlayerAnswer,
    TicketStatus,
    acceptance_progress,
    after_dropped_match,
    can_accept,
    can_stop,
    round_outcome,
    transition,
)

A, R, P = PlayerAnswer.ACCEPTED, PlayerAnswer.REJECTED, PlayerAnswer.PENDING


def test_exactly_eight_statuses_four_terminal():
    assert [s.value for s in TicketStatus] == [
        "QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING",
        "COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT",
    ]
    assert TERMINAL == {TicketStatus.COMPLETED, TicketStatus.FAILED, TicketStatus.CANCELLED, TicketStatus.TIMED_OUT}
    assert set(TRANSITIONS) == set(TicketStatus)


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_terminal_statuses_go_nowhere(status):
    for target in TicketStatus:
        with pytest.raises(IllegalTransition):
            transition(status, target)


def test_the_happy_path_is_legal():
    s = TicketStatus.QUEUED
    for nxt in ("SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING", "COMPLETED"):
        s = transition(s, TicketStatus(nxt))
    assert s is TicketStatus.COMPLETED


def test_illegal_moves_are_refused_with_a_sentence():
    with pytest.raises(IllegalTransition, match="from QUEUED to PLACING"):
        transition(TicketStatus.QUEUED, TicketStatus.PLACING)
    with pytest.raises(IllegalTransition):
        transition(TicketStatus.PLACING, TicketStatus.CANCELLED)


def test_accept_only_while_requires_acceptance_and_stop_never_while_placing():
    assert [s for s in TicketStatus if can_accept(s)] == [TicketStatus.REQUIRES_ACCEPTANCE]
    assert not can_stop(TicketStatus.PLACING)
    assert can_stop(TicketStatus.REQUIRES_ACCEPTANCE)
    assert not any(can_stop(s) for s in TERMINAL)


def test_round_outcome():
    assert round_outcome([A, A, A], deadline_passed=False) is AcceptanceOutcome.ACCEPTED
    assert round_outcome([A, P, A], deadline_passed=False) is None
    assert round_outcome([A, P, A], deadline_passed=True) is AcceptanceOutcome.TIMED_OUT
    assert round_outcome([A, R, P], deadline_passed=False) is AcceptanceOutcome.REJECTED
    # every player answered yes just as the deadline passed: the yeses win
    assert round_outcome([A, A], deadline_passed=True) is AcceptanceOutcome.ACCEPTED


def test_after_a_dropped_match_all_accepted_search_again_others_are_cancelled():
    assert after_dropped_match([A, A]) is TicketStatus.SEARCHING
    assert after_dropped_match([A, R]) is TicketStatus.CANCELLED
    assert after_dropped_match([A, P]) is TicketStatus.CANCELLED
    assert after_dropped_match([P]) is TicketStatus.CANCELLED
    assert after_dropped_match([]) is TicketStatus.CANCELLED


def test_acceptance_progress_counts_yeses():
    assert acceptance_progress([A, A, P, R, A, A, A, A, P, A]) == (7, 10)

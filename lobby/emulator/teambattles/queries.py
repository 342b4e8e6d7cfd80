"""The SQL of the listing routes: each function builds one query, its text and parameters, from
what a route was asked; nothing here touches the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lobby.emulator.teambattles.wire import decode_cursor
from lobby.core.answers import MatchStatus

#: A query's text and its parameters.
Query = tuple[str, list[Any]]

#: Where a match without a scheduled start sorts: after every match with one.
NO_START = 1e18
#: The statuses of a match that has its opponent and has not ended.
ONGOING = ("ACCEPTED", "READY", "IN_PROGRESS")


@dataclass(frozen=True, slots=True)
class DiscoverFilter:
    """What the discover route asks for; ``game_id`` is a convex id."""

    game_id: str | None
    platform: str | None
    region: str | None
    match_type: str | None
    after: float | None
    before: float | None
    league_id: str | None
    limit: int
    cursor: str | None


@dataclass(frozen=True, slots=True)
class UserMatchesFilter:
    """What the user-matches route asks for. ``game_id`` and ``opponent`` are as given (a game
    slug or convex id; a team slug or id) until :class:`~.reads.Reads` resolves them."""

    num_items: int
    cursor: str | None
    include: Sequence[str]
    exclude: Sequence[str]
    game_id: str | None
    scheduled_after: float | None
    scheduled_before: float | None
    created_after: float | None
    created_before: float | None
    opponent: str | None


def discover_query(f: DiscoverFilter, now: float) -> Query:
    """Open, published matches still to start, soonest first; one more than a page."""
    sql = (
        "SELECT *, COALESCE(scheduled_at, ?) AS sort_key FROM tb_matches"
        " WHERE publish_status = 'PUBLISHED' AND status = 'PENDING'"
        " AND challenged_team_id IS NULL AND accepted_team_id IS NULL"
        " AND (scheduled_at IS NULL OR scheduled_at > ?)"
    )
    params: list[Any] = [NO_START, now]
    if f.league_id is None:
        sql += " AND league_id IS NULL"
    else:
        sql += " AND league_id = ?"
        params.append(f.league_id)
    sql += _given(
        params,
        ("game_id = ?", f.game_id),
        ("platform = ?", f.platform),
        ("region = ?", f.region),
        ("match_type = ?", f.match_type),
        ("scheduled_at >= ?", f.after),
        ("scheduled_at <= ?", f.before),
    )
    if f.cursor is not None:
        key, seq = decode_cursor(f.cursor, (float, int))
        sql += (
            " AND (COALESCE(scheduled_at, ?) > ?"
            " OR (COALESCE(scheduled_at, ?) = ? AND seq > ?))"
        )
        params += [NO_START, key, NO_START, key, seq]
    sql += " ORDER BY sort_key, seq LIMIT ?"
    params.append(f.limit + 1)
    return sql, params


def user_matches_query(user_id: str, f: UserMatchesFilter) -> Query:
    """The matches ``user_id`` is on the roster of, newest first; one more than a page
    (api-reference/user/matches.mdx: being a member of a team in it is not enough)."""
    sql = (
        "SELECT * FROM tb_matches WHERE id IN"
        " (SELECT match_id FROM tb_match_players WHERE user_id = ?)"
    )
    return _listing(sql, [user_id], f)


def team_matches_query(team_id: str, f: UserMatchesFilter, *, drafts: bool) -> Query:
    """The matches ``team_id`` made, was accepted into or was challenged to, newest first; one
    more than a page. Drafts only when ``drafts`` (the caller leads the team that made them)."""
    sql = (
        "SELECT * FROM tb_matches WHERE ? IN"
        " (creator_team_id, COALESCE(accepted_team_id, ''), COALESCE(challenged_team_id, ''))"
    )
    params: list[Any] = [team_id]
    if not drafts:
        sql += " AND (publish_status = 'PUBLISHED' OR creator_team_id != ?)"
        params.append(team_id)
    return _listing(sql, params, f)


def _listing(sql: str, params: list[Any], f: UserMatchesFilter) -> Query:
    """The filters, cursor and page of the two match listings, added to ``sql``."""
    known = {s.value for s in MatchStatus}
    inc = [s for s in f.include if s in known]
    exc = [s for s in f.exclude if s in known]
    if inc:
        sql += f" AND status IN ({','.join('?' * len(inc))})"
        params += inc
    if exc:
        sql += f" AND status NOT IN ({','.join('?' * len(exc))})"
        params += exc
    sql += _given(
        params,
        ("game_id = ?", f.game_id),
        ("scheduled_at >= ?", f.scheduled_after),
        ("scheduled_at <= ?", f.scheduled_before),
        ("created_at >= ?", f.created_after),
        ("created_at <= ?", f.created_before),
    )
    if f.opponent is not None:
        sql += (
            " AND ? IN (creator_team_id, COALESCE(accepted_team_id, ''),"
            " COALESCE(challenged_team_id, ''))"
        )
        params.append(f.opponent)
    if f.cursor is not None:
        created, seq = decode_cursor(f.cursor, (float, int))
        sql += " AND (created_at < ? OR (created_at = ? AND seq < ?))"
        params += [created, created, seq]
    sql += " ORDER BY created_at DESC, seq DESC LIMIT ?"
    params.append(f.num_items + 1)
    return sql, params


def ongoing_query(teams: Sequence[str]) -> Query:
    """The published matches ``teams`` play in that have an opponent and have not ended."""
    marks = ",".join("?" * len(teams))
    statuses = ", ".join(f"'{s}'" for s in ONGOING)
    sql = (
        "SELECT * FROM tb_matches WHERE publish_status = 'PUBLISHED'"
        f" AND status IN ({statuses})"
        f" AND (creator_team_id IN ({marks}) OR accepted_team_id IN ({marks}))"
        " ORDER BY COALESCE(scheduled_at, ?), seq"
    )
    return sql, [*teams, *teams, NO_START]


def user_teams_query(user_id: str) -> Query:
    """The active teams ``user_id`` is an active member of, in the order they joined."""
    return (
        "SELECT t.*, m.role, m.joined_at FROM tb_members m JOIN tb_teams t ON t.id = m.team_id"
        " WHERE m.user_id = ? AND m.active = 1 AND t.active = 1 ORDER BY m.rowid",
        [user_id],
    )


def _given(params: list[Any], *conditions: tuple[str, Any]) -> str:
    """`` AND <condition>`` for each condition whose value is given (not None), that value
    appended to ``params``."""
    sql = ""
    for condition, value in conditions:
        if value is not None:
            sql += f" AND {condition}"
            params.append(value)
    return sql

"""Demo bots: captains who answer requests on their teams' matches after a short delay and post
new open matches now and then.

Every choice comes from a random generator seeded with the scenario's seed and the thing being
decided (the acceptance id, the bot and its post number), so one seed replays one demo.
Bots act through the same service methods as the routes, as their own user.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from lobby.emulator.teambattles.errors import ApiError
from lobby.emulator.teambattles.matches import NewMatch
from lobby.emulator.teambattles.scenario import BotSpec, TeamBattlesScenario
from lobby.emulator.teambattles.service import TeamBattles
from lobby.core.answers import BenchEntry, RosterDraft

log = logging.getLogger(__name__)

APPROVE_REPLIES = ("GG, see you on the server.", "Accepted. Be on time!", "You're on.")
DECLINE_REPLIES = ("Sorry, we found another team.", "Not this time.", "Roster mismatch, pass.")


def _earliest(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


class Bots:
    def __init__(self, service: TeamBattles, scenario: TeamBattlesScenario) -> None:
        self.service = service
        self.scenario = scenario

    def _rng(self, *parts: Any) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.scenario.seed, *parts)))

    def tick(self, now: float) -> float | None:
        nxt: float | None = None
        for bot in self.scenario.bots:
            led = self.service.lookups.teams_led_by(bot.user)
            if not led:
                continue
            nxt = _earliest(nxt, self._answer(bot, led, now))
            nxt = _earliest(nxt, self._post(bot, led, now))
        return nxt

    # --- answering requests ---------------------------------------------------------------------

    def _answer(self, bot: BotSpec, led: list[str], now: float) -> float | None:
        marks = ",".join("?" * len(led))
        rows = self.service.store.query(
            "SELECT a.id, a.match_id, a.created_at FROM tb_acceptances a"
            " JOIN tb_matches m ON m.id = a.match_id"
            " WHERE a.status = 'PENDING' AND m.status = 'PENDING'"
            f" AND m.creator_team_id IN ({marks})"
            " ORDER BY a.created_at, a.seq",
            led,
        )
        nxt: float | None = None
        lo, hi = bot.reply_after_seconds
        for row in rows:
            rng = self._rng(bot.user, row["id"])
            due = row["created_at"] + rng.uniform(lo, hi)
            if due > now:
                nxt = _earliest(nxt, due)
                continue
            approve = rng.random() < bot.approve_ratio
            try:
                if approve:
                    self.service.acceptances.approve(
                        bot.user, row["match_id"], row["id"], rng.choice(APPROVE_REPLIES)
                    )
                else:
                    self.service.acceptances.decline(
                        bot.user, row["match_id"], row["id"], rng.choice(DECLINE_REPLIES)
                    )
            except ApiError as err:  # the match moved on meanwhile: nothing to answer
                log.debug("bot %s could not answer %s: %s", bot.user, row["id"], err.code)
        return nxt

    # --- posting matches ------------------------------------------------------------------------

    def _post(self, bot: BotSpec, led: list[str], now: float) -> float | None:
        if bot.post_every_seconds is None or bot.max_open_matches == 0:
            return None
        store = self.service.store
        due_key = f"teambattles.bot.{bot.user}.next_post"
        count_key = f"teambattles.bot.{bot.user}.posts"
        due = store.get_meta(due_key)
        if due is None:
            due = now + bot.post_every_seconds * self._rng(bot.user, "first").uniform(0.3, 1.0)
            store.set_meta(due_key, due)
            return float(due)
        if due > now:
            return float(due)
        posts = int(store.get_meta(count_key) or 0) + 1
        store.set_meta(count_key, posts)
        store.set_meta(due_key, now + bot.post_every_seconds)
        marks = ",".join("?" * len(led))
        row = store.query_one(
            "SELECT COUNT(*) FROM tb_matches WHERE status = 'PENDING'"
            f" AND publish_status = 'PUBLISHED' AND creator_team_id IN ({marks})",
            led,
        )
        if row is not None and row[0] < bot.max_open_matches:
            self._post_one(bot, led, now, self._rng(bot.user, "post", posts))
        return now + bot.post_every_seconds

    def _post_one(self, bot: BotSpec, led: list[str], now: float, rng: random.Random) -> None:
        s = self.service
        team_id = rng.choice(led)
        team = s.lookups.team_facts(team_id)
        game = s.lookups.game(team.game_id or "")
        if game is None or game.coming_soon or not game.modes:
            return
        mode = rng.choice(game.modes)
        size = game.default_team_size
        members = [m["id"] for m in s.lookups.members(team_id)]
        if len(members) < size:
            return
        bench = tuple(BenchEntry(u, float(i + 1)) for i, u in enumerate(members[size:]))
        best_of = rng.choice((1, 1, 3, 3, 5))
        released = [m.id for m in game.maps if m.released and m.id in mode.maps]
        maps = rng.sample(released, k=min(best_of, len(released))) if released else []
        lo, hi = bot.starts_in_minutes
        new = NewMatch(
            team_id=team_id,
            game_id=game.convex_id,
            game_mode=mode.id,
            match_type="XP_ONLY",
            map_selection_type="FLEX",
            map_preference_mode="PREFERRED",
            team_size=size,
            best_of=best_of,
            roster=RosterDraft(tuple(members[:size]), bench),
            platform=rng.choice(("CROSSPLAY", "CROSSPLAY", "PC")),
            region=rng.choice(("NONE", "EU", "NA_EAST", "NA_WEST")),
            scheduled_at=now + rng.uniform(lo, hi) * 60,
            selected_maps=tuple(maps),
            publish_status="PUBLISHED",
        )
        try:
            s.matches.create_match(bot.user, new)
        except ApiError as err:
            log.debug("bot %s could not post a match: %s", bot.user, err.code)

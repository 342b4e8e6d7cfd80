"""The Error envelope ``{"error": code, "details": "..."}`` and the HTTP status of each code."""

from __future__ import annotations

from lobby.teambattles.vocab import ErrorCode as E
from lobby.core.answers import Violation

#: The status of every code the emulator answers. Each code is a member of the published
#: ``ApiErrorCode``; statuses are those the route and developer pages give, and for codes they
#: give none, the status of the situation (docs/emulator-decisions.md).
STATUS: dict[str, int] = {
    E.API_KEY_REQUIRED: 401,
    E.API_KEY_INVALID: 401,
    E.API_KEY_EXPIRED: 401,
    E.API_KEY_PERMISSION_DENIED: 403,
    E.API_FEATURE_REQUIRED: 403,
    E.API_PLAN_REQUIRED: 403,
    E.FORBIDDEN: 403,
    E.NOT_MATCH_PARTICIPANT: 403,
    E.NOT_TEAM_LEADER: 403,
    E.ONLY_CAPTAINS_CAN_RESPOND_CHALLENGE: 403,
    E.COMPETITIVE_BANNED: 403,
    E.API_RATE_LIMITED: 429,
    E.IP_RATE_LIMITED: 429,
    E.INVALID_REQUEST: 400,
    E.VALIDATION_FAILED: 400,
    E.INVALID_LIMIT: 400,
    E.INVALID_CURSOR: 400,
    E.INVALID_DATE_FORMAT: 400,
    E.INVALID_BEST_OF: 400,
    E.INVALID_GAME_MODE: 400,
    E.ROSTER_TOO_SMALL: 400,
    E.NOT_TEAM_MEMBER: 400,
    E.TEAM_GAME_MISMATCH: 400,
    E.INVALID_MAP_SELECTION: 400,
    E.MAP_NOT_RELEASED: 400,
    E.MAP_SELECTION_NOT_SUPPORTED: 400,
    E.MATCH_CANNOT_ACCEPT_OWN: 400,
    E.MATCH_NOT_CHALLENGE: 400,
    E.CANNOT_CHALLENGE_SELF: 400,
    E.MATCH_NOT_FOUND: 404,
    E.GAME_NOT_FOUND: 404,
    E.TEAM_NOT_FOUND: 404,
    E.USER_NOT_FOUND: 404,
    E.LEAGUE_NOT_FOUND: 404,
    E.ACCEPTANCE_NOT_FOUND: 404,
    E.MATCH_NOT_PUBLISHED: 409,
    E.MATCH_ALREADY_PUBLISHED: 409,
    E.MATCH_ALREADY_ACCEPTED: 409,
    E.MATCH_ALREADY_STARTED: 409,
    E.CHALLENGE_NOT_PENDING: 409,
    E.CHALLENGE_ALREADY_PENDING: 409,
    E.ACCEPTANCE_ALREADY_PENDING: 409,
    E.ACCEPTANCE_NOT_PENDING: 409,
    E.IDEMPOTENCY_KEY_CONFLICT: 409,
    E.INTERNAL: 500,
}


class ApiError(Exception):
    """An answer in the Error envelope. Raised anywhere below a route; the route turns it into
    a response."""

    def __init__(
        self,
        code: str,
        details: str | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {details}")
        self.code = str(code)
        self.details = details
        self.status = status if status is not None else STATUS.get(self.code, 400)
        self.headers = headers or {}

    @classmethod
    def of(cls, violation: Violation) -> ApiError:
        return cls(violation.code, violation.details)

    def body(self) -> dict[str, str]:
        out = {"error": self.code}
        if self.details:
            out["details"] = self.details
        return out


def invalid(details: str, code: str = E.VALIDATION_FAILED) -> ApiError:
    return ApiError(code, details)


def raise_first(violations: list[Violation]) -> None:
    if violations:
        raise ApiError.of(violations[0])

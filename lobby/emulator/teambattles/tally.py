"""What the emulator answered on /api/v1, counted: by caller (the API key's owner; ``""`` when
no key was accepted), operation, status and, for a refusal, its error code.

Tests read it at ``GET /_emulator/teambattles/answers`` to say, from the service's side, what a
client was answered (for instance that lobby's flows got no 403), instead of trusting the client.
"""

from __future__ import annotations

import json
from collections import Counter

from starlette.responses import Response

#: request.state's name for the caller, set by the pipeline once the key is known.
CALLER = "teambattles_caller"
#: The operation name of answers from the fallback (no route, or a method the path lacks).
UNROUTED = "(no route)"


def _code(response: Response) -> str:
    if response.status_code < 400:
        return ""
    try:
        error = json.loads(bytes(response.body)).get("error")
    except (ValueError, AttributeError):
        return "(not the Error envelope)"
    return error if isinstance(error, str) else "(not the Error envelope)"


class AnswerTally:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, int, str]] = Counter()

    def record(self, caller: str, operation: str, response: Response) -> None:
        self._counts[(caller, operation, response.status_code, _code(response))] += 1

    def snapshot(self) -> dict[str, object]:
        """``{"total", "byStatus": {status: n}, "byCaller": {caller: {"total", "byStatus"}},
        "answers": [{caller, operation, status, error, count}]}``; statuses as text keys."""
        by_status: Counter[str] = Counter()
        by_caller: dict[str, Counter[str]] = {}
        rows = []
        for (caller, operation, status, error), n in sorted(self._counts.items()):
            by_status[str(status)] += n
            by_caller.setdefault(caller, Counter())[str(status)] += n
            rows.append(
                {"caller": caller, "operation": operation, "status": status, "error": error, "count": n}
            )
        return {
            "total": sum(by_status.values()),
            "byStatus": dict(by_status),
            "byCaller": {
                caller: {"total": sum(c.values()), "byStatus": dict(c)}
                for caller, c in by_caller.items()
            },
            "answers": rows,
        }

"""The emulator counts what it answered on /api/v1, by caller, operation, status and error code,
and shows it at GET /_emulator/teambattles/answers."""

from __future__ import annotations

import httpx
from teambattles_helpers import TB, VIPER, VIPERS_HP, YOU


def test_answers_are_counted_by_caller_operation_status_and_code(emulator):
    tb = TB(emulator.url, YOU)
    assert tb.get("/games").status_code == 200
    assert tb.get("/matches/{matchId}", matchId=VIPERS_HP).status_code == 403  # not a participant
    assert tb.as_(VIPER).get("/matches/{matchId}", matchId=VIPERS_HP).status_code == 200
    assert tb.as_(None).get("/games").status_code == 401
    tb.close()
    assert httpx.get(emulator.url + "/api/v1/no/such/route", timeout=10).status_code == 404

    shown = httpx.get(emulator.url + "/_emulator/teambattles/answers", timeout=10).json()
    rows = {(r["caller"], r["operation"], r["status"], r["error"]): r["count"] for r in shown["answers"]}
    assert rows == {
        ("u_you", "listGames", 200, ""): 1,
        ("u_you", "getMatchDetail", 403, "error_not_match_participant"): 1,
        ("bot_viper", "getMatchDetail", 200, ""): 1,
        ("", "listGames", 401, "error_api_key_required"): 1,
        ("", "(no route)", 404, "error_invalid_request"): 1,
    }
    assert shown["total"] == 5
    assert shown["byStatus"] == {"200": 2, "401": 1, "403": 1, "404": 1}
    assert shown["byCaller"]["u_you"] == {"total": 2, "byStatus": {"200": 1, "403": 1}}

"""Reading one message into an event: numbers are checked while the text is decoded, and a
message with a number no event field can hold is still rejected with the number's place, as
text, as bytes, inside an SNS notification, or given already decoded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from synthetic import flexmatch_event, poison_messages, sns_wrap

from lobby.moderation.rejects import MAX_NUMBER, RejectLog, read_event

T0 = 1_767_268_800.0


def searching(**detail: Any) -> dict[str, Any]:
    event = flexmatch_event("MatchmakingSearching", uid="e-1", time=T0, tickets=[("t-1", T0, [("p-1", None, None)])])
    event["detail"].update(detail)
    return event


def read(payload: Any) -> tuple[str | None, list[str]]:
    rejects = RejectLog()
    event = read_event(payload, message_id="m-1", rejects=rejects)
    return (event.uid if event is not None else None), [r.reason for r in rejects.latest]


@pytest.mark.parametrize("value", [30, -7, 2.5, MAX_NUMBER, -MAX_NUMBER, int(MAX_NUMBER), 10**14 + 0.5, True])
def test_numbers_an_event_can_hold_are_read(value: Any) -> None:
    envelope = searching(acceptanceTimeout=value)
    for payload in (json.dumps(envelope), json.dumps(envelope).encode(), envelope):
        assert read(payload) == ("e-1", [])
    assert read(json.dumps(sns_wrap(envelope, message_id="s-1", time=T0))) == ("e-1", [])


@pytest.mark.parametrize(
    "text", ["1e16", "-1e16", "1000000000000001", "-99999999999999999999", "1e999", "-1e999", "NaN", "Infinity", "-Infinity"]
)
def test_a_number_out_of_range_is_rejected_with_its_place(text: str) -> None:
    body = json.dumps(searching(acceptanceTimeout=0)).replace('"acceptanceTimeout": 0', f'"acceptanceTimeout": {text}')
    named = ["a number out of range (detail.acceptanceTimeout)"]
    assert read(body) == (None, named)
    assert read(body.encode()) == (None, named)
    sns = {"Type": "Notification", "MessageId": "s-1", "Message": body}
    assert read(json.dumps(sns)) == (None, named)
    if text.startswith("1"):
        # A digit spelt as an escape inside the notification's text is still read as one.
        escaped = json.dumps(sns).replace('"acceptanceTimeout\\": 1', '"acceptanceTimeout\\": \\u0031')
        assert escaped != json.dumps(sns)
        assert read(escaped) == (None, named)


def test_a_number_out_of_range_deep_in_the_detail_is_named_there() -> None:
    envelope = searching()
    envelope["detail"]["tickets"][0]["players"][0]["attributes"] = {"skill": {"N": [1, 2, 1e300]}}
    assert read(json.dumps(envelope)) == (None, ["a number out of range (detail.tickets[0].players[0].attributes.skill.N[2])"])
    assert read(envelope) == (None, ["a number out of range (detail.tickets[0].players[0].attributes.skill.N[2])"])


def test_every_poison_message_is_rejected_for_its_reason() -> None:
    reasons = {kind: read(body) for kind, body in poison_messages(T0).items()}
    assert reasons["nesting"] == (None, ["nested too deeply"])
    assert reasons["not json"] == (None, ["not JSON"])
    assert reasons["size"][1][0].startswith("too large")
    assert reasons["huge integer"] == (None, ["a number out of range"])
    assert reasons["infinite number"] == (None, ["a number out of range (detail.acceptanceTimeout)"])
    unreadable = ("not an object", "encoding", "missing field", "wrong field type", "sns with bad message")
    for kind in (*unreadable, "tickets not a list", "ticket without id"):
        assert reasons[kind] == (None, ["not an event (missing or wrong fields)"]), kind
    assert read("\ufeff" + json.dumps(searching())) == (None, ["not JSON"])

"""Events as a moderator's board reads them, whatever carried them.

Three shapes arrive:

- an EventBridge envelope of a FlexMatch event (``source`` ``aws.gamelift``, ``detail.type``):
  the emulator's event stream, or an SQS message delivered raw by EventBridge;
- the same envelope inside an SNS notification (``{"Type": "Notification", "Message": "..."}``),
  as an SQS queue subscribed to the FlexMatch notification topic receives it;
- a TeamBattles webhook-shaped event (``{"id", "event", "created_at", "data": {"match": ...}}``).

:func:`unwrap` turns any of them into one :class:`ModEvent` with an id to deduplicate by (the
EventBridge event id, the webhook delivery id, else the id the carrier gave), a type, a time and
the AWS region it comes from (the envelope's own ``region``, else the region of its ``resources``
ARN, else the region of the feed that carried it). Anything else is not an event for the board
and gives None.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lobby.core.events import EventSource, parse_time
from lobby.flexmatch.notifications import configuration_of

# A busy feed reads thousands of events a second: the sender compared with is named once (an
# enum member read through its class costs a call, Python 3.11), and an event time's text,
# shared by every event of the same moment, is read once.
_GAMELIFT = EventSource.GAMELIFT
_TEAMBATTLES = EventSource.TEAMBATTLES
_time_text = lru_cache(maxsize=1 << 12)(parse_time)


def _time_of(value: Any) -> float | None:
    return _time_text(value) if type(value) is str else parse_time(value)


@dataclass(frozen=True, slots=True)
class ModEvent:
    """One event for the board."""

    #: What makes two deliveries the same event.
    uid: str
    source: EventSource
    #: ``detail.type`` (FlexMatch) or ``event`` (TeamBattles).
    type: str
    #: When it happened, epoch seconds (the event's own time when it carries one).
    time: float
    #: The EventBridge ``detail`` or the webhook ``data``.
    body: dict[str, Any]
    #: FlexMatch: the configuration named by the envelope's ``resources`` ARN.
    configuration: str | None = None
    #: The AWS region of the event (FlexMatch), else of the feed that carried it; None if unknown.
    region: str | None = None


def _region_of(payload: dict[str, Any]) -> str | None:
    """The envelope's own region, else the region of its first ``resources`` ARN."""
    region = payload.get("region")
    if isinstance(region, str) and region:
        return region[:64]
    resources = payload.get("resources")
    if isinstance(resources, list):
        for arn in resources:
            parts = arn.split(":", 4) if isinstance(arn, str) else ()
            if len(parts) == 5 and parts[0] == "arn" and parts[3]:
                return parts[3][:64]
    return None


def _ticket_list(tickets: Any) -> bool:
    """Every FlexMatch event carries ``tickets``: a list of objects, each with its ``ticketId``."""
    if not isinstance(tickets, list):
        return False
    for ticket in tickets:
        if not isinstance(ticket, dict) or not isinstance(ticket.get("ticketId"), str):
            return False
    return True


def _own_id(payload: dict[str, Any], fallback_id: str | None) -> str | None:
    uid = payload.get("id")
    return uid if isinstance(uid, str) and uid else fallback_id


def unwrap(
    payload: Any,
    *,
    fallback_id: str | None = None,
    received: float = 0.0,
    region: str | None = None,
    loads: Callable[[str | bytes], Any] = json.loads,
) -> ModEvent | None:
    """The event inside ``payload`` (a dict, or JSON text); None when it holds none.

    ``fallback_id`` names the event when the payload carries no id of its own (the SSE id, the
    SNS message id); ``received`` stands in for a missing or unreadable time; ``region`` (the
    feed's) for an event that names no region of its own; ``loads`` decodes JSON text (the
    payload's, or an SNS message's).
    """
    if isinstance(payload, (str, bytes)):
        try:
            payload = loads(payload)
        except ValueError:
            return None
    if not isinstance(payload, dict):
        return None
    get = payload.get
    # SNS: the event is the text of "Message".
    if get("Type") == "Notification" and isinstance(get("Message"), str):
        message_id = payload.get("MessageId")
        inner_fallback = f"sns:{message_id}" if isinstance(message_id, str) else fallback_id
        sent = parse_time(payload.get("Timestamp"))
        topic = payload.get("TopicArn")
        parts = topic.split(":", 4) if isinstance(topic, str) else ()
        if len(parts) == 5 and parts[0] == "arn" and parts[3]:
            region = parts[3][:64]  # the topic's region, where the event names none
        return unwrap(
            payload["Message"], fallback_id=inner_fallback, received=sent or received, region=region, loads=loads
        )
    detail = get("detail")
    if isinstance(detail, dict) and get("source") == _GAMELIFT:
        kind = detail.get("type")
        if not isinstance(kind, str) or not _ticket_list(detail.get("tickets")):
            return None
        uid = _own_id(payload, fallback_id)
        if uid is None:
            return None
        when = _time_of(get("time"))
        return ModEvent(
            uid,
            _GAMELIFT,
            kind,
            when if when is not None else received,
            detail,
            configuration_of(get("resources")),
            _region_of(payload) or region,
        )
    data = get("data")
    kind = get("event")
    if isinstance(kind, str) and isinstance(data, dict):
        uid = _own_id(payload, fallback_id)
        if uid is None:
            return None
        when = _time_of(get("created_at"))
        return ModEvent(
            uid=uid,
            source=_TEAMBATTLES,
            type=kind,
            time=when if when is not None else received,
            body=data,
            region=region,
        )
    return None

"""The moderator's view of the lobby: read-only, every FlexMatch ticket and TeamBattles match.

- ``events``: the carriers (emulator stream, SQS with or without SNS, TeamBattles webhooks)
  unwrapped into one :class:`ModEvent` with an id to deduplicate by;
- ``board``: the :class:`Board` that applies each event once, folding FlexMatch events
  (``tickets``, through :mod:`lobby.flexmatch.fold` as the captain's book does) and TeamBattles
  events (``matches``) into the rows (``rows``), timelines and windowed figures (``stats``) its
  ``ledger`` keeps;
- ``view``: the filtered, sorted :class:`TableModel` a screen draws;
- ``sources``: where events come from (the emulator, recorded events), ``sqs`` and ``sns``
  (real AWS), and ``merge``: several feeds (queues and topics of several regions) as one.

No Textual here; the screens live in ``lobby.tui.moderator``.
"""

from lobby.moderation.board import Board
from lobby.moderation.rows import Key, Kind, Row, TimelineEntry
from lobby.moderation.events import ModEvent, unwrap
from lobby.moderation.sources import EmulatorSource, ModerationSource, ReplaySource
from lobby.moderation.stats import Snapshot, Stats
from lobby.moderation.view import Column, TableModel

__all__ = [
    "Board",
    "Column",
    "EmulatorSource",
    "Key",
    "Kind",
    "ModEvent",
    "ModerationSource",
    "ReplaySource",
    "Row",
    "Snapshot",
    "Stats",
    "TableModel",
    "TimelineEntry",
    "unwrap",
]

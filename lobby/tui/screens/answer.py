"""What every answer screen shares: the offer it answers, and the one worker that sends the answer.

The FlexMatch ticket screen and the TeamBattles form both send their answer in a worker (one
at a time per screen), show that they are busy meanwhile, and on a refusal keep the form as it
is and say why, in the screen and in a toast. :meth:`AnswerScreen.answer` does that once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker

from lobby.core.backend import OfferBackend
from lobby.core.errors import BackendError, Unavailable
from lobby.tui.safe import MESSAGE, brief, clean
from lobby.tui.store import Entry, Key

if TYPE_CHECKING:
    from lobby.tui.app import LobbyApp

#: Said when the offer's backend left (the profile was switched) before the answer went out.
GONE = "the backend of this offer is gone (the profile was switched)."

#: Sends the answer: given the offer's backend and the offer's id, the service's sentence.
Send = Callable[[OfferBackend, str], Awaitable[str]]


class AnswerScreen(Screen[None]):
    """A screen that answers the offer of ``key``: ``busy`` while the answer is on its way,
    ``error`` the service's refusal (plain text) until the next try."""

    busy: reactive[bool] = reactive(False)
    error: reactive[str | None] = reactive(None)

    def __init__(self, key: Key) -> None:
        super().__init__()
        self.key = key

    @property
    def lobby(self) -> LobbyApp:
        return cast("LobbyApp", self.app)

    @property
    def entry(self) -> Entry | None:
        return self.lobby.store.get(self.key)

    def answer(
        self,
        send: Send,
        *,
        refused: str,
        sent: Callable[[str], None],
        unreachable: Callable[[Unavailable], None] | None = None,
    ) -> Worker[None]:
        """Send the answer in this screen's answer worker (a newer one replaces it). A
        BackendError becomes ``error`` and a toast titled ``refused``; otherwise ``sent`` is
        given the service's sentence (to record the answer and say so). With ``unreachable``,
        a service that could not be reached is handed to it instead: not sent, not refused."""
        return self.run_worker(self._answer(send, refused, sent, unreachable), group="answer", exclusive=True)

    async def _answer(
        self,
        send: Send,
        refused: str,
        sent: Callable[[str], None],
        unreachable: Callable[[Unavailable], None] | None,
    ) -> None:
        entry = self.entry
        backend = self.lobby.backend(entry.backend) if entry is not None else None
        if entry is None or backend is None:
            self.error = GONE
            return
        self.error = None
        self.busy = True
        try:
            note = await send(backend, entry.offer.id)
        except Unavailable as exc:
            if unreachable is None:
                self.error = clean(exc.message)
                self.notify(brief(exc.message, MESSAGE), title=refused, severity="error", markup=False)
            else:
                unreachable(exc)
        except BackendError as exc:
            self.error = clean(exc.message)
            self.notify(brief(exc.message, MESSAGE), title=refused, severity="error", markup=False)
        else:
            sent(note)
        finally:
            self.busy = False

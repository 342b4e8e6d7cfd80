"""Changes to TeamBattles offers by polling, where there is no event stream (the live service).

Each poll lists the offers again and brings my requests up to date, paced by the service's
rate-limit headers (:class:`~lobby.teambattles.pacing.RateLimitPacer`): a throttled poll waits
as long as the service says, a failed one backs off, and failures that retrying cannot mend
(the key, its permissions, an answer off the contract) end the changes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from lobby.core.errors import (
    AuthenticationFailed,
    BackendError,
    NotConfigured,
    PermissionDenied,
    ProtocolError,
    Throttled,
)
from lobby.core.offers import Change, Offer, OfferUpdated
from lobby.teambattles.matches import Mine
from lobby.teambattles.offers import Offers
from lobby.teambattles.pacing import RateLimitPacer

log = logging.getLogger(__name__)

#: The longest wait between polls after failures in a row.
MAX_BACKOFF_SECONDS = 300.0


async def poll(
    offers: Offers,
    *,
    mine: Callable[[], Awaitable[Mine]],
    listed: Callable[[], Awaitable[list[Offer]]],
    refresh: Callable[[], Awaitable[object]],
    pacer: RateLimitPacer,
    interval: float,
    sleep: Callable[[float], Awaitable[object]],
) -> AsyncIterator[Change]:
    """Poll offers (``listed``) and requests (``refresh``) every ``interval`` seconds, paced by
    the rate-limit headers; yield what changed."""
    failures = 0
    while True:
        await pacer.before_poll()
        try:
            before = dict(offers.offered)
            current = await listed()
            known = await mine()  # what the listing learnt of my teams (cached)
            await refresh()
            failures = 0
        except (AuthenticationFailed, PermissionDenied, NotConfigured, ProtocolError):
            raise
        except Throttled:
            # The pacer knows from Retry-After / the headers how long to wait; without
            # either, wait one interval rather than ask again at once.
            if pacer.wait_needed() <= 0:
                await sleep(interval)
            continue
        except BackendError as error:
            failures += 1
            log.debug("poll failed: %s", error)
            await sleep(min(interval * 2 ** min(failures, 4), MAX_BACKOFF_SECONDS))
            continue
        for offer in current:
            if before.get(offer.id) != offer:
                yield OfferUpdated(offer=offer)
        for gone_id, old in before.items():
            if gone_id not in offers.offered:
                yield await offers.closed(old, known)
        await sleep(interval)

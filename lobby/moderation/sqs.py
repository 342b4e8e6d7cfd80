"""FlexMatch notifications from an Amazon SQS queue (real AWS, or any SQS-compatible server).

GameLift publishes matchmaking events to an SNS topic (the configuration's notification target)
or through EventBridge; either can deliver them to an SQS queue. A message body is then the
EventBridge event itself (raw delivery) or an SNS notification whose ``Message`` is the event;
:func:`~lobby.moderation.events.unwrap` reads both.

The queue is read with long polling (``WaitTimeSeconds``, 20 s by default): an idle queue costs
three requests a minute. The readable events of one receive are one batch, and a message is
deleted only after the board applied its event: the source yields the batch and deletes its
messages once the consumer asks for the next one (see :mod:`~lobby.moderation.sources`).
Whatever is not deleted comes back after the queue's visibility timeout and is then recognised
as already applied by its event id.

A message that holds no readable event (see :mod:`~lobby.moderation.rejects`) is counted and
listed, never deleted (the queue's redrive policy may move it to a dead-letter queue), and hidden
for :data:`POISON_HIDE` seconds so that it stops coming back every visibility timeout. When the
queue has no redrive policy the source says so once.

The SQS JSON protocol (``X-Amz-Target: AmazonSQS.*``) over httpx, signed with SigV4 by botocore,
as the GameLift client does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from lobby.core.errors import (
    AuthenticationFailed,
    BackendError,
    InvalidRequest,
    NotConfigured,
    PermissionDenied,
    ProtocolError,
    Throttled,
    Unavailable,
)
from lobby.core.backend import FeedState
from lobby.core.clock import Clock
from lobby.flexmatch.signing import CredentialSource, SigV4
from lobby.moderation.events import ModEvent
from lobby.moderation.rejects import RejectLog, read_event
from lobby.moderation.sources import Batch

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET = "AmazonSQS."
#: SQS allows at most 10 messages per receive and 20 s of long polling.
MAX_MESSAGES = 10
MAX_WAIT = 20
#: How long an unreadable message is hidden: SQS's longest visibility timeout, 12 hours.
POISON_HIDE = 43_200
ANOTHER_READER = (
    "Another reader seems to take messages from the queue {queue} (messages were in flight that "
    "this console did not take): SQS gives each message to one reader, so this console misses what "
    "the other takes. Give each moderator a queue of its own (--sns-topic ARN)."
)
NO_REDRIVE = (
    "The queue {queue} has no redrive policy: unreadable messages stay on it (hidden 12 h at a "
    "time). Give it a dead-letter queue to move them aside."
)

_REGION_IN_HOST = re.compile(r"^(?:sqs[.-]([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?$")
_QUEUE_ARN = re.compile(r"^arn:(aws[a-z-]*):sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$")
_AUTH_CODES = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "ExpiredToken",
    "UnrecognizedClientException",
    "InvalidSecurity",
}
_THROTTLE_CODES = {"RequestThrottled", "ThrottlingException", "OverLimit", "KmsThrottled"}
_MISSING_CODES = {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "NonExistentQueue"}


def region_of(queue_url: str) -> str | None:
    """The region named by an AWS queue URL's host (``sqs.us-east-1.amazonaws.com``, or the
    older ``us-east-1.queue.amazonaws.com``) or by a queue ARN."""
    arn = _QUEUE_ARN.match(queue_url)
    if arn:
        return arn.group(2)
    match = _REGION_IN_HOST.match(urlsplit(queue_url).hostname or "")
    return (match.group(1) or match.group(2)) if match else None


def url_of_queue(queue: str, endpoint_url: str | None = None) -> str:
    """The URL of ``queue``, given as its URL or as its ARN
    (``arn:aws:sqs:eu-west-1:123456789012:name``: at ``endpoint_url`` when given, else at AWS)."""
    arn = _QUEUE_ARN.match(queue)
    if not arn:
        return queue
    partition, region, account, name = arn.groups()
    if endpoint_url:
        return f"{endpoint_url.rstrip('/')}/{account}/{name}"
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{domain}/{account}/{name}"


def _code(body: Any) -> str | None:
    if isinstance(body, dict):
        raw = body.get("__type") or body.get("code") or body.get("Code")
        if isinstance(raw, str) and raw:
            return raw.rsplit("#", 1)[-1]
    return None


def fault(response: httpx.Response, queue: str) -> BackendError:
    """A typed error for a refused SQS call."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    code = _code(body) or response.headers.get("x-amzn-query-error", "").split(";", 1)[0] or None
    where = f"the SQS queue {queue}"
    if code in _MISSING_CODES:
        return NotConfigured(f"There is no SQS queue {queue}; check the queue URL.", code=code, status=status)
    if code in _AUTH_CODES or status == 401:
        return AuthenticationFailed(
            f"AWS did not accept the credentials for {where} ({code or status}); sign in again.",
            code=code,
            status=status,
        )
    if code == "AccessDenied" or code == "AccessDeniedException" or status == 403:
        return PermissionDenied(
            f"Your AWS identity may not read or delete messages of {where} (sqs:ReceiveMessage, sqs:DeleteMessage).",
            code=code,
            status=status,
        )
    if code in _THROTTLE_CODES or status == 429:
        return Throttled(f"SQS is throttling reads of {where}.", code=code, status=status)
    if status >= 500:
        return Unavailable(f"SQS failed on its side reading {where} (HTTP {status}).", code=code, status=status)
    return InvalidRequest(f"SQS refused the request for {where} ({code or status}).", code=code, status=status)


class SqsSource:
    """Events from an SQS queue; messages are deleted once their events were applied."""

    def __init__(
        self,
        queue_url: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        aws_profile: str | None = None,
        credentials: CredentialSource | None = None,
        wait_seconds: int = MAX_WAIT,
        max_messages: int = MAX_MESSAGES,
        visibility_timeout: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_backoff: float = 20.0,
        expect_others: bool = True,
    ) -> None:
        self.region = region_of(queue_url) or region or "us-east-1"
        self.queue_url = queue_url = url_of_queue(queue_url, endpoint_url)
        parts = urlsplit(endpoint_url or queue_url)
        self.endpoint = f"{parts.scheme}://{parts.netloc}/"
        self.queue_name = urlsplit(queue_url).path.rstrip("/").rsplit("/", 1)[-1] or queue_url
        self.description = f"SQS queue {self.queue_name} ({self.region})"
        self.state = FeedState.CONNECTING
        #: SQS messages carry no stream ids; event times are AWS's, read by this machine's clock.
        self.last_event_id: int | None = None
        self.clock: Clock | None = None
        self.wait_seconds = max(0, min(wait_seconds, MAX_WAIT))
        self.max_messages = max(1, min(max_messages, MAX_MESSAGES))
        self.visibility_timeout = visibility_timeout
        self._credentials = credentials or CredentialSource(aws_profile)
        self._transport = transport
        self._sleep = sleep
        self._max_backoff = max_backoff
        self._rng = random.Random()
        self.received = 0
        self.deleted = 0
        self.reconnects = 0
        #: Messages seen that hold no event (left on the queue for its redrive policy).
        self.unreadable: set[str] = set()
        self.rejects = RejectLog()
        self._redrive_checked = False
        #: Watch for signs of another reader (not on a queue this console made for itself).
        self.expect_others = expect_others
        self._mine: dict[str, None] = {}

    def __repr__(self) -> str:
        return f"SqsSource(queue={self.queue_url!r}, region={self.region!r})"

    # --- calls ---------------------------------------------------------------------------------

    async def _call(self, http: httpx.AsyncClient, action: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET + action}
        try:
            response = await http.post(self.endpoint, content=json.dumps(body).encode(), headers=headers)
        except httpx.TimeoutException:
            raise Unavailable(f"SQS did not answer in time for the queue {self.queue_name}.", timeout=True) from None
        except httpx.HTTPError as exc:
            raise Unavailable(
                f"SQS at {self.endpoint} could not be reached ({type(exc).__name__})."
            ) from None
        if response.status_code != 200:
            raise fault(response, self.queue_name)
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            raise ProtocolError(f"SQS answered {action} with something that is not JSON.") from None
        if not isinstance(answer, dict):
            raise ProtocolError(f"SQS answered {action} with something unexpected.")
        return answer

    async def receive(self, http: httpx.AsyncClient) -> list[dict[str, Any]]:
        body: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": self.max_messages,
            "WaitTimeSeconds": self.wait_seconds,
            "MessageSystemAttributeNames": ["SentTimestamp", "ApproximateReceiveCount"],
        }
        if self.visibility_timeout is not None:
            body["VisibilityTimeout"] = self.visibility_timeout
        answer = await self._call(http, "ReceiveMessage", body)
        messages = answer.get("Messages") or []
        return [m for m in messages if isinstance(m, dict) and isinstance(m.get("ReceiptHandle"), str)]

    async def delete(self, http: httpx.AsyncClient, receipts: list[str]) -> int:
        """Delete messages by receipt handle, ten per call; return how many went."""
        gone = 0
        for start in range(0, len(receipts), MAX_MESSAGES):
            chunk = receipts[start : start + MAX_MESSAGES]
            entries = [{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(chunk)]
            answer = await self._call(http, "DeleteMessageBatch", {"QueueUrl": self.queue_url, "Entries": entries})
            done = answer.get("Successful") or []
            gone += len(done)
        self.deleted += gone
        return gone

    async def hide(self, http: httpx.AsyncClient, receipts: list[str], seconds: int = POISON_HIDE) -> None:
        """Make messages invisible for ``seconds`` (ten per call), so they stop cycling."""
        for start in range(0, len(receipts), MAX_MESSAGES):
            chunk = receipts[start : start + MAX_MESSAGES]
            entries = [{"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": seconds} for i, r in enumerate(chunk)]
            await self._call(
                http, "ChangeMessageVisibilityBatch", {"QueueUrl": self.queue_url, "Entries": entries}
            )

    async def attributes(self, http: httpx.AsyncClient, names: list[str]) -> dict[str, str]:
        answer = await self._call(http, "GetQueueAttributes", {"QueueUrl": self.queue_url, "AttributeNames": names})
        found = answer.get("Attributes")
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    async def _set_aside(self, http: httpx.AsyncClient, receipts: list[str]) -> None:
        """Hide unreadable messages; say once when nothing will ever move them off the queue."""
        with contextlib.suppress(BackendError):
            await self.hide(http, receipts)
        if not self._redrive_checked:
            self._redrive_checked = True
            with contextlib.suppress(BackendError):
                if not (await self.attributes(http, ["RedrivePolicy"])).get("RedrivePolicy"):
                    self.rejects.note(NO_REDRIVE.format(queue=self.queue_name))

    # --- the source ----------------------------------------------------------------------------

    async def batches(self) -> AsyncGenerator[Batch, None]:
        """The readable events of each receive as one batch."""
        auth = SigV4(self._credentials, self.region, service="sqs")
        timeout = httpx.Timeout(10.0, read=self.wait_seconds + 10.0)
        async with httpx.AsyncClient(auth=auth, timeout=timeout, transport=self._transport) as http:
            looked = not self.expect_others
            failures = 0
            while True:
                try:
                    messages = await self.receive(http)
                except BackendError as error:
                    if not error.retryable:
                        raise
                    failures += 1
                    self.reconnects += 1
                    self.state = FeedState.RECONNECTING
                    wait = min(0.5 * 2 ** (failures - 1), self._max_backoff)
                    await self._sleep(self._rng.uniform(0.5, 1.0) * wait)
                    continue
                failures = 0
                self.state = FeedState.LIVE
                if not looked:
                    looked = True
                    await self._look_for_others(http, holding=len(messages))
                batch: list[ModEvent] = []
                readable: list[str] = []
                poison: list[str] = []
                applied = False
                try:
                    for message in messages:
                        self.received += 1
                        event = self._read(message)
                        if event is None:
                            poison.append(message["ReceiptHandle"])
                            continue
                        batch.append(event)
                        readable.append(message["ReceiptHandle"])
                    if batch:
                        yield batch
                    applied = True  # asked for more: every event of the batch was applied
                finally:
                    if applied and readable:
                        with contextlib.suppress(BackendError):
                            await self.delete(http, readable)
                    if poison:
                        await self._set_aside(http, poison)

    async def _look_for_others(self, http: httpx.AsyncClient, *, holding: int) -> None:
        """More messages in flight than the ``holding`` this console just received: someone
        else is reading."""
        with contextlib.suppress(BackendError, ValueError):
            found = await self.attributes(http, ["ApproximateNumberOfMessagesNotVisible"])
            if int(found.get("ApproximateNumberOfMessagesNotVisible", "0")) > holding:
                self.rejects.note(ANOTHER_READER.format(queue=self.queue_name))

    def _received_before(self, message: dict[str, Any], message_id: str) -> None:
        """A message received before, but not by this console: someone else is reading."""
        if not self.expect_others:
            return
        attributes = message.get("Attributes")
        count = attributes.get("ApproximateReceiveCount") if isinstance(attributes, dict) else None
        if message_id not in self._mine and str(count) not in ("1", "None"):
            self.rejects.note(ANOTHER_READER.format(queue=self.queue_name))
        self._mine[message_id] = None
        if len(self._mine) > 100_000:
            del self._mine[next(iter(self._mine))]

    def _read(self, message: dict[str, Any]) -> ModEvent | None:
        """The message's event; None, counted and listed, when it has none that can be read."""
        message_id = str(message.get("MessageId") or "?")[:200]
        self._received_before(message, message_id)
        body = message.get("Body")
        if not isinstance(body, str):
            event = None
            self.rejects.add(message_id, "no text body")
        else:
            event = read_event(
                body,
                message_id=message_id,
                rejects=self.rejects,
                fallback_id=f"sqs:{message_id}",
                received=_sent_time(message),
                region=self.region,
            )
        if event is None:
            self.unreadable.add(message_id)
        return event

    async def aclose(self) -> None:
        self.state = FeedState.CLOSED


def _sent_time(message: dict[str, Any]) -> float:
    attributes = message.get("Attributes")
    if isinstance(attributes, dict):
        try:
            return int(str(attributes.get("SentTimestamp", 0))[:20]) / 1000.0
        except (TypeError, ValueError, OverflowError):
            return 0.0
    return 0.0

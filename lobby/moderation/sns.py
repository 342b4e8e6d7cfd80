"""Each moderator's own queue on the FlexMatch notification topic: every console sees every event.

SQS hands each message to one reader, so two consoles on one queue split the events between them.
:class:`TopicSource` gives a console a queue of its own instead: on start it creates a queue,
lets the topic write to it (a queue policy naming the topic), subscribes it to the topic (raw or
enveloped delivery, both read) and reads it with :class:`~lobby.moderation.sqs.SqsSource`; on
exit it unsubscribes and deletes the queue.

A console that crashed leaves its queue and subscription behind. Each queue is tagged with the
topic, the host and process that own it, its subscription, and when its owner last said it was
alive (refreshed every :data:`HEARTBEAT` seconds); on start a console removes the queues of its
topic whose owner is a dead process of this host, or that nobody refreshed for :data:`STALE`
seconds. The queue keeps messages :data:`RETENTION` seconds only, so a leftover stays small.

Setting up and tearing down take a handful of calls: botocore's clients, in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

from lobby.core.clock import Clock
from lobby.core.backend import FeedState
from lobby.core.errors import (
    AuthenticationFailed,
    BackendError,
    InvalidRequest,
    NotConfigured,
    PermissionDenied,
    Unavailable,
)
from lobby.moderation.rejects import RejectLog
from lobby.moderation.sources import Batch
from lobby.moderation.sqs import SqsSource

PREFIX = "lobby-moderator-"
TAG_TOPIC = "lobby:topic"
TAG_OWNER = "lobby:owner"
TAG_SUBSCRIPTION = "lobby:subscription"
TAG_SEEN = "lobby:seen"
#: Seconds between two "still alive" marks on the queue's tags.
HEARTBEAT = 600
#: A queue whose owner has not marked it for this long is a leftover.
STALE = 3 * 3600
#: How long the queue keeps a message nobody read (SQS's least is 60 s).
RETENTION = 3600

T = TypeVar("T")


def topic_region(arn: str) -> str | None:
    """The region of an SNS topic ARN (``arn:aws:sns:us-east-1:123456789012:name``)."""
    parts = arn.split(":")
    return parts[3] if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "sns" and parts[3] else None


def owner() -> str:
    return f"{socket.gethostname()}/{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_leftover(tags: dict[str, str], *, topic: str, now: float, host: str | None = None) -> bool:
    """Whether a tagged moderator queue of ``topic`` was left by a console that is gone."""
    if tags.get(TAG_TOPIC) != topic:
        return False
    try:
        seen = float(tags.get(TAG_SEEN, "0"))
    except ValueError:
        seen = 0.0
    if now - seen > STALE:
        return True
    where, _, pid = tags.get(TAG_OWNER, "").rpartition("/")
    return where == (host or socket.gethostname()) and pid.isdigit() and not _alive(int(pid))


def queue_policy(queue_arn: str, topic_arn: str) -> str:
    """The queue policy that lets the topic, and only it, send to the queue."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "lobby-moderator-topic",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
    )


def _typed(exc: Exception, what: str) -> BackendError:
    """A typed error for a failed SNS or SQS set-up call."""
    import botocore.exceptions

    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in ("NotFound", "NotFoundException", "AWS.SimpleQueueService.NonExistentQueue"):
            return NotConfigured(f"{what}: there is no such topic or queue ({code}).", code=code, status=status)
        if code in ("AuthorizationError", "AccessDenied", "AccessDeniedException") or status == 403:
            return PermissionDenied(
                f"{what}: your AWS identity may not do this ({code}); it needs sqs:CreateQueue, "
                "sqs:SetQueueAttributes, sqs:TagQueue, sqs:DeleteQueue, sns:Subscribe and sns:Unsubscribe.",
                code=code,
                status=status,
            )
        if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"):
            return AuthenticationFailed(f"{what}: AWS did not accept the credentials ({code}).", code=code)
        if status >= 500:
            return Unavailable(f"{what}: AWS failed on its side (HTTP {status}).", code=code, status=status)
        return InvalidRequest(f"{what}: AWS refused it ({code or status}).", code=code, status=status)
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return NotConfigured(f"{what}: no AWS credentials were found.")
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return Unavailable(f"{what}: AWS could not be reached ({type(exc).__name__}).")
    return Unavailable(f"{what}: {type(exc).__name__}.")


class TopicSource:
    """Events from the FlexMatch notification topic, through a queue of this console's own."""

    def __init__(
        self,
        topic_arn: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        aws_profile: str | None = None,
        raw_delivery: bool = False,
        wait_seconds: int = 20,
    ) -> None:
        self.topic_arn = topic_arn
        self.region = topic_region(topic_arn) or region or "us-east-1"
        self.endpoint_url = endpoint_url
        self.aws_profile = aws_profile
        self.raw_delivery = raw_delivery
        self.wait_seconds = wait_seconds
        self.description = f"SNS topic {topic_arn.rsplit(':', 1)[-1]} ({self.region})"
        self._state = FeedState.CONNECTING
        self.rejects = RejectLog()
        self.queue_url: str | None = None
        self.subscription_arn: str | None = None
        self.cleaned: list[str] = []
        self.reader: SqsSource | None = None
        self._clients: dict[str, Any] = {}
        #: Like SQS messages, SNS deliveries carry no stream ids, and their times are AWS's.
        self.last_event_id: int | None = None
        self.clock: Clock | None = None

    @property
    def state(self) -> FeedState:
        if self._state is not FeedState.CLOSED and self.reader is not None:
            return self.reader.state
        return self._state

    @state.setter
    def state(self, value: FeedState) -> None:
        self._state = value

    def __repr__(self) -> str:
        return f"TopicSource(topic={self.topic_arn!r}, region={self.region!r})"

    def _client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            import botocore.session

            session = botocore.session.Session(profile=self.aws_profile)
            client = session.create_client(service, region_name=self.region, endpoint_url=self.endpoint_url)
            self._clients[service] = client
        return client

    async def _run(self, what: str, work: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(work)
        except BackendError:
            raise
        except Exception as exc:  # noqa: BLE001 - every botocore failure becomes a typed error
            raise _typed(exc, what) from None

    # --- set up, clean up -------------------------------------------------------------------------

    def _remove(self, queue_url: str, subscription: str | None) -> None:
        """Unsubscribe and delete, each whether or not the other worked. Blocking."""
        import botocore.exceptions

        if subscription and subscription.startswith("arn:"):
            with contextlib.suppress(botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                self._client("sns").unsubscribe(SubscriptionArn=subscription)
        with contextlib.suppress(botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            self._client("sqs").delete_queue(QueueUrl=queue_url)

    def clean_leftovers(self) -> list[str]:
        """Remove the queues (and subscriptions) of this topic left by consoles that are gone;
        return their URLs. Blocking."""
        sqs = self._client("sqs")
        urls = sqs.list_queues(QueueNamePrefix=PREFIX).get("QueueUrls", [])
        now = time.time()
        gone = []
        for url in urls:
            try:
                tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
            except Exception:  # noqa: BLE001 - deleted meanwhile, or not ours to read
                continue
            if is_leftover(tags, topic=self.topic_arn, now=now):
                self._remove(url, tags.get(TAG_SUBSCRIPTION))
                gone.append(url)
        return gone

    def _open(self) -> None:
        """Create, authorise, tag and subscribe this console's queue. Blocking."""
        sqs, sns = self._client("sqs"), self._client("sns")
        name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        tags = {TAG_TOPIC: self.topic_arn, TAG_OWNER: owner(), TAG_SEEN: str(int(time.time()))}
        url = sqs.create_queue(
            QueueName=name, Attributes={"MessageRetentionPeriod": str(RETENTION)}, tags=tags
        )["QueueUrl"]
        self.queue_url = url
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": queue_policy(arn, self.topic_arn)})
        answer = sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true" if self.raw_delivery else "false"},
            ReturnSubscriptionArn=True,
        )
        self.subscription_arn = answer["SubscriptionArn"]
        sqs.tag_queue(QueueUrl=url, Tags={TAG_SUBSCRIPTION: self.subscription_arn})

    def _heartbeat(self) -> None:
        if self.queue_url:
            self._client("sqs").tag_queue(QueueUrl=self.queue_url, Tags={TAG_SEEN: str(int(time.time()))})

    async def close_queue(self) -> None:
        """Unsubscribe and delete this console's queue (once)."""
        url, subscription = self.queue_url, self.subscription_arn
        self.queue_url = self.subscription_arn = None
        if url:
            await asyncio.to_thread(self._remove, url, subscription)

    # --- the source --------------------------------------------------------------------------------

    async def batches(self) -> AsyncGenerator[Batch, None]:
        self.cleaned = await self._run("Cleaning up queues left by earlier consoles", self.clean_leftovers)
        try:
            await self._run(f"Subscribing a queue to {self.topic_arn}", self._open)
            assert self.queue_url is not None
            self.reader = SqsSource(
                self.queue_url,
                region=self.region,
                endpoint_url=self.endpoint_url,
                aws_profile=self.aws_profile,
                wait_seconds=self.wait_seconds,
                expect_others=False,
            )
            self.reader.rejects = self.rejects
            beat = asyncio.create_task(self._beat())
            try:
                async with contextlib.aclosing(self.reader.batches()) as stream:
                    async for batch in stream:
                        yield batch
            finally:
                beat.cancel()
        finally:
            await self.close_queue()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            with contextlib.suppress(BackendError):
                await self._run("Marking the queue alive", self._heartbeat)

    async def aclose(self) -> None:
        self.state = FeedState.CLOSED
        await self.close_queue()

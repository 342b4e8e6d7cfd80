"""The SQS reader against a real SQS-compatible server: moto in server mode (``moto_endpoint``,
shared by the adapter tests), spoken to over HTTP on a loopback port with the SQS JSON protocol
and SigV4 (no mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import boto3
import httpx
import pytest
from synthetic import applying, flexmatch_event, poison_messages, sns_wrap

from lobby.core.errors import NotConfigured
from lobby.flexmatch.lifecycle import EventType
from lobby.moderation import Board
from lobby.moderation.rows import Kind
from lobby.moderation.sqs import SqsSource, region_of
from lobby.core.backend import FeedState

pytest.importorskip("moto.server", reason="moto[server] is a test dependency")

T0 = 1_767_268_800.0
HANG = 20  # a guard against hangs only


@pytest.fixture
def queue(moto_endpoint, request) -> tuple[object, str]:
    client = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    name = request.node.name.replace("[", "-").replace("]", "")[:70]
    url = client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    return client, url


def events() -> list[dict]:
    ana = ("t-ana", T0 - 30, [("ana", None, None)])
    bo = ("t-bo", T0 - 20, [("bo", None, None)])
    return [
        flexmatch_event(EventType.SEARCHING, uid="eb-1", time=T0 - 30, tickets=[ana]),
        flexmatch_event(EventType.SEARCHING, uid="eb-2", time=T0 - 20, tickets=[bo]),
        flexmatch_event(
            EventType.POTENTIAL_MATCH_CREATED,
            uid="eb-3",
            time=T0,
            tickets=[("t-ana", T0 - 30, [("ana", "red", None)]), ("t-bo", T0 - 20, [("bo", "blue", None)])],
            matchId="m-1",
            acceptanceRequired=True,
            acceptanceTimeout=30,
        ),
    ]


def counts(client, url: str) -> tuple[int, int]:
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


async def take(source: SqsSource, board: Board, n: int) -> None:
    """Apply events until ``n`` were applied, then stop reading."""
    async with asyncio.timeout(HANG):
        async with contextlib.aclosing(source.batches()) as stream:
            async for batch in stream:
                board.apply_all(batch)
                if board.applied >= n:
                    break


async def test_raw_and_sns_wrapped_events_are_applied_once_then_deleted(queue, moto_endpoint):
    client, url = queue
    raw, wrapped, third = events()
    client.send_message(QueueUrl=url, MessageBody=json.dumps(raw))
    client.send_message(QueueUrl=url, MessageBody=json.dumps(sns_wrap(wrapped, message_id="sns-2", time=T0)))
    client.send_message(QueueUrl=url, MessageBody=json.dumps(sns_wrap(raw, message_id="sns-1", time=T0)))  # again
    client.send_message(QueueUrl=url, MessageBody=json.dumps(third))
    client.send_message(QueueUrl=url, MessageBody="this is no event")
    board = Board()
    source = SqsSource(url, endpoint_url=moto_endpoint, wait_seconds=1)

    async with applying(source, board):
        async with asyncio.timeout(HANG):
            while source.deleted < 4:
                await asyncio.sleep(0.02)
    assert (board.applied, board.duplicates) == (3, 1)
    ana = board.get((Kind.TICKET, "t-ana"))
    assert ana is not None and ana.status == "REQUIRES_ACCEPTANCE" and ana.deadline == T0 + 30
    assert source.state is FeedState.LIVE and len(source.unreadable) == 1
    # Only the message holding no event is left, for the queue's dead-letter policy.
    visible, in_flight = await asyncio.to_thread(counts, client, url)
    assert (visible, in_flight, source.deleted) == (0, 1, 4)


async def test_a_message_is_not_deleted_before_it_is_applied(queue, moto_endpoint):
    client, url = queue
    for event in events():
        client.send_message(QueueUrl=url, MessageBody=json.dumps(event))
    board = Board()
    source = SqsSource(url, endpoint_url=moto_endpoint, wait_seconds=1, visibility_timeout=1, max_messages=10)
    # The consumer takes one event and stops without asking for more: nothing is deleted.
    async with asyncio.timeout(HANG):
        async with contextlib.aclosing(source.batches()) as stream:
            async for batch in stream:
                board.apply(batch[0])
                break
    assert source.received >= 1 and source.deleted == 0
    # After the visibility timeout the messages come back; the one applied is not applied twice.
    again = SqsSource(url, endpoint_url=moto_endpoint, wait_seconds=2)
    await take(again, board, 3)
    assert board.applied == 3


async def test_a_failing_connection_shows_reconnecting_then_resumes(queue, moto_endpoint):
    client, url = queue
    client.send_message(QueueUrl=url, MessageBody=json.dumps(events()[0]))

    class Flaky(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()
            self.failures = 2

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if self.failures:
                self.failures -= 1
                raise httpx.ConnectError("connection refused")
            return await self.inner.handle_async_request(request)

    states: list[FeedState] = []

    async def no_sleep(seconds: float) -> None:
        states.append(source.state)

    source = SqsSource(url, endpoint_url=moto_endpoint, wait_seconds=1, transport=Flaky(), sleep=no_sleep)
    board = Board()
    await take(source, board, 1)
    assert states == [FeedState.RECONNECTING, FeedState.RECONNECTING]
    assert source.state is FeedState.LIVE and source.reconnects == 2 and board.applied == 1


async def test_a_missing_queue_is_a_plain_error(moto_endpoint):
    source = SqsSource(f"{moto_endpoint}/123456789012/no-such-queue", endpoint_url=moto_endpoint, wait_seconds=0)
    with pytest.raises(NotConfigured) as refused:
        await take(source, Board(), 1)
    assert str(refused.value) == (
        "There is no SQS queue no-such-queue; check the queue URL."
    )


def test_the_region_comes_from_the_queue_url():
    assert region_of("https://sqs.eu-west-1.amazonaws.com/123456789012/q") == "eu-west-1"
    assert region_of("http://127.0.0.1:4566/000000000000/q") is None
    source = SqsSource("https://sqs.ap-south-1.amazonaws.com/123456789012/flexmatch")
    assert (source.region, source.endpoint, source.description) == (
        "ap-south-1",
        "https://sqs.ap-south-1.amazonaws.com/",
        "SQS queue flexmatch (ap-south-1)",
    )


async def test_unreadable_messages_are_listed_hidden_and_kept_and_the_feed_goes_on(queue, moto_endpoint):
    client, url = queue
    poison = poison_messages(T0)
    good = events()
    client.send_message(QueueUrl=url, MessageBody=json.dumps(good[0]))
    for body in poison.values():
        client.send_message(QueueUrl=url, MessageBody=body)
    client.send_message(QueueUrl=url, MessageBody=json.dumps(good[1]))
    board = Board()
    source = SqsSource(url, endpoint_url=moto_endpoint, wait_seconds=1)

    async with applying(source, board):
        async with asyncio.timeout(HANG):
            while source.deleted < 2 or source.rejects.count < len(poison) or not source.rejects.notes:
                await asyncio.sleep(0.02)
    assert board.applied == 2 and source.state is FeedState.LIVE
    assert source.rejects.count == len(poison) and len(source.unreadable) == len(poison)
    reasons = [entry.reason for entry in source.rejects.latest]
    assert "nested too deeply" in reasons and "not JSON" in reasons
    assert any(r.startswith("too large") for r in reasons)
    assert any(r.startswith("a number out of range") for r in reasons)
    # Never deleted, hidden for the longest visibility timeout: none comes back within the queue's 30 s.
    visible, in_flight = await asyncio.to_thread(counts, client, url)
    assert (visible, in_flight) == (0, len(poison))
    assert source.deleted == 2
    assert len(source.rejects.notes) == 1 and "no redrive policy" in source.rejects.notes[0]


async def test_a_queue_with_a_dead_letter_queue_is_not_warned_about(queue, moto_endpoint):
    client, url = queue
    dead = client.create_queue(QueueName="dead-letters")["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "5"})
    client.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})
    client.send_message(QueueUrl=url, MessageBody="[" * 100_000)
    client.send_message(QueueUrl=url, MessageBody=json.dumps(events()[0]))
    board = Board()
    source = SqsSource(url, endpoint_url=moto_endpoint, wait_seconds=1)
    await take(source, board, 1)
    assert source.rejects.count == 1 and source.rejects.notes == []

"""Every moderator sees every event: each console reads the FlexMatch notification topic through a
queue of its own. Against moto in server mode (SNS delivering to SQS; ``moto_endpoint``, shared by
the adapter tests) on a loopback port; nothing is mocked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time

import boto3
import pytest
from synthetic import flexmatch_event, sns_wrap

from lobby.moderation import Board
from lobby.moderation.sns import PREFIX, TAG_OWNER, TAG_SEEN, TAG_SUBSCRIPTION, TAG_TOPIC, TopicSource, is_leftover
from lobby.moderation.sqs import SqsSource

pytest.importorskip("moto.server", reason="moto[server] is a test dependency")

T0 = 1_767_268_800.0
HANG = 30  # a guard against hangs only
EVENTS = 40


@pytest.fixture
def topic(moto_endpoint, request) -> str:
    sns = boto3.client("sns", endpoint_url=moto_endpoint, region_name="us-east-1")
    name = request.node.name.replace("[", "-").replace("]", "")[:60]
    return sns.create_topic(Name=name)["TopicArn"]


def clients(moto_endpoint: str):
    return (
        boto3.client("sns", endpoint_url=moto_endpoint, region_name="us-east-1"),
        boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1"),
    )


def searching(n: int) -> dict:
    ticket = (f"t-{n:03d}", T0 - 60 + n, [(f"p{n}", None, None)])
    return flexmatch_event("MatchmakingSearching", uid=f"eb-{n}", time=T0 - 60 + n, tickets=[ticket])


def moderator_queues(sqs) -> list[str]:
    return sqs.list_queues(QueueNamePrefix=PREFIX).get("QueueUrls", [])


async def watch(source: TopicSource, board: Board) -> None:
    async with contextlib.aclosing(source.batches()) as stream:
        async for batch in stream:
            board.apply_all(batch)


@pytest.mark.parametrize("moderators", [2, 5])
async def test_every_moderator_on_a_topic_sees_every_event(moto_endpoint, topic, moderators):
    sns, sqs = clients(moto_endpoint)
    sources = [
        TopicSource(topic, endpoint_url=moto_endpoint, raw_delivery=bool(i % 2), wait_seconds=1) for i in range(moderators)
    ]
    boards = [Board() for _ in sources]
    tasks = [asyncio.create_task(watch(s, b)) for s, b in zip(sources, boards, strict=True)]
    try:
        async with asyncio.timeout(HANG):
            while any(s.reader is None for s in sources):
                await asyncio.sleep(0.02)
            assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == moderators
            for n in range(EVENTS):
                await asyncio.to_thread(sns.publish, TopicArn=topic, Message=json.dumps(searching(n)))
            while any(b.applied < EVENTS for b in boards):
                await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
    assert [b.applied for b in boards] == [EVENTS] * moderators
    assert all(len(b) == EVENTS for b in boards)
    assert all(s.rejects.count == 0 for s in sources)
    # Raw and enveloped deliveries were both read (odd consoles subscribed raw).
    assert {s.raw_delivery for s in sources} == {False, True}
    # On exit each console unsubscribed and deleted its queue.
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert not [u for u in moderator_queues(sqs) if any(u == s.queue_url for s in sources)]
    assert all(s.queue_url is None for s in sources)


async def test_queues_left_by_a_crashed_console_are_removed_on_the_next_start(moto_endpoint, topic):
    sns, sqs = clients(moto_endpoint)
    alive = TopicSource(topic, endpoint_url=moto_endpoint, wait_seconds=1)
    board = Board()
    first = asyncio.create_task(watch(alive, board))
    async with asyncio.timeout(HANG):
        while alive.reader is None:
            await asyncio.sleep(0.02)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    left = sqs.create_queue(
        QueueName=f"{PREFIX}crashed",
        tags={TAG_TOPIC: topic, TAG_OWNER: f"{socket.gethostname()}/{dead.pid}", TAG_SEEN: str(int(time.time()))},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=left, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)["SubscriptionArn"]
    sqs.tag_queue(QueueUrl=left, Tags={TAG_SUBSCRIPTION: subscription})
    # Another topic's queue, and the live console's, are not touched.
    other = sqs.create_queue(
        QueueName=f"{PREFIX}other-topic",
        tags={TAG_TOPIC: topic + "-other", TAG_OWNER: f"{socket.gethostname()}/{dead.pid}", TAG_SEEN: "0"},
    )["QueueUrl"]
    source = TopicSource(topic, endpoint_url=moto_endpoint, wait_seconds=1)
    task = asyncio.create_task(watch(source, Board()))
    try:
        async with asyncio.timeout(HANG):
            while source.reader is None:
                await asyncio.sleep(0.02)
        assert alive.queue_url in moderator_queues(sqs)  # a live console's queue stays
    finally:
        for t in (task, first):
            t.cancel()
        await asyncio.gather(task, first, return_exceptions=True)
    assert source.cleaned == [left]
    assert left not in moderator_queues(sqs) and other in moderator_queues(sqs)
    assert subscription not in [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]


def test_a_queue_nobody_marked_alive_for_hours_is_a_leftover():
    tags = {TAG_TOPIC: "arn:t", TAG_OWNER: "elsewhere/1", TAG_SEEN: str(int(T0))}
    assert is_leftover(tags, topic="arn:t", now=T0 + 4 * 3600)
    assert not is_leftover(tags, topic="arn:t", now=T0 + 60)
    assert not is_leftover(tags, topic="arn:other", now=T0 + 4 * 3600)


async def test_a_shared_sqs_queue_warns_of_the_other_reader(moto_endpoint):
    _, sqs = clients(moto_endpoint)
    url = sqs.create_queue(QueueName="shared-by-two")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(sns_wrap(searching(n), message_id=f"m{n}", time=T0)))
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=30)  # the other reader
    source = SqsSource(url, endpoint_url=moto_endpoint, wait_seconds=1)
    board = Board()
    async with asyncio.timeout(HANG):
        async with contextlib.aclosing(source.batches()) as stream:
            async for batch in stream:
                board.apply_all(batch)
                if board.applied == 2:
                    break
    assert len(source.rejects.notes) == 1 and "Another reader" in source.rejects.notes[0]

"""Several regions at once: `lobby moderate`'s repeated --sqs and --sns-topic flags become one feed.

Against moto in server mode (``moto_endpoint``) with queues and topics in two regions, which moto
keeps apart as AWS does (by the region each request is signed for). The feeds are built from the
command line, as `lobby moderate` builds them; nothing is mocked."""

from __future__ import annotations

import asyncio
import json

import boto3
import pytest
from synthetic import ACCOUNT, applying, flexmatch_event

from lobby.cli import build_parser
from lobby.cli.moderate import build_source
from lobby.flexmatch.lifecycle import EventType
from lobby.moderation import Board, TableModel
from lobby.moderation.merge import MergedSource
from lobby.moderation.rows import Kind

pytest.importorskip("moto.server", reason="moto[server] is a test dependency")

T0 = 1_767_268_800.0
HANG = 30  # a guard against hangs only
EAST, WEST = "us-east-1", "eu-west-1"
PER_FEED = 6


def searching(name: str, n: int, *, region: str | None) -> dict:
    """A ticket of ``name`` starting to search; ``region`` None: an envelope that names no region
    (its feed's region is then the row's)."""
    ticket = (f"t-{name}-{n}", T0 + n, [(f"{name}-{n}", None, None)])
    event = flexmatch_event(EventType.SEARCHING, uid=f"eb-{name}-{n}", time=T0 + n, tickets=[ticket])
    if region is None:
        del event["region"]
        event["resources"] = []
    else:
        event["region"] = region
        event["resources"] = [f"arn:aws:gamelift:{region}:{ACCOUNT}:matchmakingconfiguration/ranked-5v5"]
    return event


@pytest.fixture
def aws(moto_endpoint, request):
    """Per region: an SQS and an SNS client, and names unique to this test."""
    stem = request.node.name.replace("[", "-").replace("]", "")[:40]
    made = {
        region: (
            boto3.client("sqs", endpoint_url=moto_endpoint, region_name=region),
            boto3.client("sns", endpoint_url=moto_endpoint, region_name=region),
        )
        for region in (EAST, WEST)
    }
    return made, stem


async def test_queues_and_topics_of_two_regions_on_one_board(moto_endpoint, aws):
    clients, stem = aws
    (east_sqs, _), (west_sqs, west_sns) = clients[EAST], clients[WEST]
    east_queue = east_sqs.create_queue(QueueName=f"{stem}-east")["QueueUrl"]
    west_queue = west_sqs.create_queue(QueueName=f"{stem}-west")["QueueUrl"]
    topic = west_sns.create_topic(Name=f"{stem}-topic")["TopicArn"]
    # moto's queue URLs name no region: the queues are given by ARN, which does.
    east_arn = f"arn:aws:sqs:{EAST}:{ACCOUNT}:{stem}-east"
    west_arn = f"arn:aws:sqs:{WEST}:{ACCOUNT}:{stem}-west"
    missing = f"arn:aws:sqs:{WEST}:{ACCOUNT}:{stem}-missing"
    args = build_parser().parse_args(
        ["moderate", "--sqs", east_arn, "--sns-topic", topic, "--sqs", west_arn, "--sqs", missing,
         "--endpoint-url", moto_endpoint]
    )  # fmt: skip
    source = build_source(args)
    # Queues first, then topics.
    assert isinstance(source, MergedSource) and [s.region for s in source.sources] == [EAST, WEST, WEST, WEST]
    for feed in source.sources:
        feed.wait_seconds = 1  # type: ignore[attr-defined]  # short polls keep the test short
    # Each region's queue holds only its own messages (moto keeps regions apart).
    assert west_sqs.list_queues(QueueNamePrefix=stem).get("QueueUrls") == [west_queue]

    board = Board()

    async with applying(source, board):
        async with asyncio.timeout(HANG):
            while source.sources[3].reader is None:  # type: ignore[attr-defined]  # the topic's own queue
                await asyncio.sleep(0.02)
            shared = searching("both", 0, region=WEST)
            for n in range(PER_FEED):
                east_sqs.send_message(QueueUrl=east_queue, MessageBody=json.dumps(searching("east", n, region=EAST)))
                west_sqs.send_message(QueueUrl=west_queue, MessageBody=json.dumps(searching("west", n, region=None)))
                west_sns.publish(TopicArn=topic, Message=json.dumps(searching("topic", n, region=WEST)))
            # The same event on two feeds: applied once.
            east_sqs.send_message(QueueUrl=east_queue, MessageBody=json.dumps(shared))
            west_sns.publish(TopicArn=topic, Message=json.dumps(shared))
            while board.applied < 3 * PER_FEED + 1 or board.duplicates < 1:
                await asyncio.sleep(0.05)
        await source.aclose()

    assert (board.applied, board.duplicates) == (3 * PER_FEED + 1, 1)
    region = {row.id: row.region for row in board.rows.values() if row.kind == Kind.TICKET}
    assert {region[f"t-east-{n}"] for n in range(PER_FEED)} == {EAST}
    assert {region[f"t-topic-{n}"] for n in range(PER_FEED)} == {WEST}
    # An event that names no region takes its queue's.
    assert {region[f"t-west-{n}"] for n in range(PER_FEED)} == {WEST}
    assert board.region_names == sorted([EAST, WEST])

    # The region is a filter.
    model = TableModel(board)
    model.update()
    assert len(model) == 3 * PER_FEED + 1
    model.set_region(EAST)
    model.update()
    # The event on both feeds names its own region (the west), whichever feed brought it first.
    assert {row.id for row in model} == {f"t-east-{n}" for n in range(PER_FEED)}
    model.set_region(None)
    model.set_query(WEST)
    model.update()
    assert {row.region for row in model} == {WEST} and len(model) == 2 * PER_FEED + 1

    # The queue that does not exist stopped its feed alone, and said so once.
    assert list(source.failed) == [2]
    assert sum("stopped" in note for note in source.rejects.notes) == 1
    # Every queue was read to the end and its messages deleted.
    for client, url in ((east_sqs, east_queue), (west_sqs, west_queue)):
        attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0"

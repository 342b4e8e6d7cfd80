"""Figures for the SQS path (run with `make bench`; prints, asserts no timings).

How many events per second one moderator reads from an SQS queue and applies to its board
(:class:`~lobby.moderation.sqs.SqsSource` feeding a :class:`~lobby.moderation.board.Board`),
against a bare boto3 loop that only receives and deletes, on the same queue of the same server
(moto in server mode, its own process), in the same run. The queue is filled before each timed
pass with the same SNS-wrapped FlexMatch events; the passes alternate, twice each. Target from
the issue: the moderator at least 0.8 times the bare loop.

``LOBBY_BENCH_SQS_EVENTS`` sets the events per pass (default 1,000).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from ports import free_port, wait_listening
from synthetic import flexmatch_event, sns_wrap

from lobby.moderation import Board
from lobby.moderation.sqs import SqsSource

EVENTS = int(os.environ.get("LOBBY_BENCH_SQS_EVENTS", "1000"))
ROUNDS = 2
T0 = 1_767_268_800.0
HANG = 600  # a guard against hangs only



@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    """`moto_server` in its own process on a free loopback port."""
    binary = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    port = free_port()
    server = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, 30, "moto_server")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def bodies(round_: int) -> list[str]:
    out = []
    for n in range(EVENTS):
        ticket = (f"t-{round_}-{n}", T0 + n / 100, [(f"p{n}", None, None)])
        event = flexmatch_event("MatchmakingSearching", uid=f"eb-{round_}-{n}", time=T0 + n / 100, tickets=[ticket])
        out.append(json.dumps(sns_wrap(event, message_id=f"sns-{round_}-{n}", time=T0 + n / 100)))
    return out


def fill(sqs, url: str, messages: list[str]) -> None:
    for start in range(0, len(messages), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(messages[start : start + 10])]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def bare_loop(sqs, url: str) -> float:
    """Receive and delete until every message went; events per second."""
    done = 0
    start = time.perf_counter()
    while done < EVENTS:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            done += len(messages)
    return EVENTS / (time.perf_counter() - start)


async def moderator(url: str, endpoint: str) -> float:
    """Read, unwrap, apply and delete until every event is on the board; events per second."""
    board = Board()
    source = SqsSource(url, endpoint_url=endpoint, wait_seconds=1)
    start = time.perf_counter()
    async with asyncio.timeout(HANG):
        async with contextlib.aclosing(source.batches()) as stream:
            async for batch in stream:
                board.apply_all(batch)
                if board.applied >= EVENTS:
                    break
    seconds = time.perf_counter() - start
    assert board.applied == EVENTS and source.rejects.count == 0
    return EVENTS / seconds


def test_sqs_path_against_a_bare_receive_and_delete_loop(moto_endpoint):
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    url = sqs.create_queue(QueueName="bench-flexmatch", Attributes={"VisibilityTimeout": "120"})["QueueUrl"]
    bare: list[float] = []
    ours: list[float] = []
    for round_ in range(ROUNDS):
        fill(sqs, url, bodies(2 * round_))
        bare.append(bare_loop(sqs, url))
        fill(sqs, url, bodies(2 * round_ + 1))
        ours.append(asyncio.run(moderator(url, moto_endpoint)))
    ratio = statistics.median(ours) / statistics.median(bare)
    print()
    print(f"SQS path, {EVENTS:,} SNS-wrapped events per pass, moto server on loopback (shared machine)")
    print(f"  bare boto3 receive+delete: {', '.join(f'{v:,.0f}' for v in bare)} events/s")
    print(f"  moderator read+apply:      {', '.join(f'{v:,.0f}' for v in ours)} events/s")
    print(f"  ratio (medians): {ratio:.2f}x (target >= 0.8x)")

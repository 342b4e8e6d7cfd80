"""Fixtures of the adapter tests: one SQS- and SNS-compatible server for all of them.

moto in server mode, started once on a loopback port and spoken to over HTTP (SQS's JSON
protocol with SigV4, SNS delivering to SQS), as a studio would run it; nothing is mocked. It
keeps each region's queues and topics apart, as AWS does: the region is the one a request is
signed for. Each test names its queues and topics after itself, so tests never share one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The base URL of a moto server of this run (SQS and SNS, every region)."""
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is a test dependency")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()

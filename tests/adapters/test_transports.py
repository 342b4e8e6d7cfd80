"""The adapters' shared transport: plain HTTP without reading the CA bundle, HTTPS verified with
the one TLS context, and httpx's own proxy handling whenever the environment names a proxy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from lobby.net import transports


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b'{"hello": "plain"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plain_server() -> Iterator[str]:
    """A plain-HTTP server on loopback: ``host:port``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


async def test_plain_http_goes_through_without_a_tls_context(plain_server):
    transports.tls_context.cache_clear()
    transport = transports.shared_transport()
    assert isinstance(transport, transports.SchemeTransport)
    async with httpx.AsyncClient(transport=transport, timeout=10) as client:
        response = await client.get(f"http://{plain_server}/")
    assert response.json() == {"hello": "plain"}
    assert transports.tls_context.cache_info().currsize == 0  # the CA bundle was never read


async def test_https_is_verified_with_the_shared_context(plain_server):
    """A server that does not speak TLS fails the handshake; the attempt made the context."""
    transports.tls_context.cache_clear()
    async with httpx.AsyncClient(transport=transports.shared_transport(), timeout=10) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"https://{plain_server}/")
    assert transports.tls_context.cache_info().currsize == 1
    assert transports.tls_context().verify_mode.name == "CERT_REQUIRED"


def test_the_plain_side_can_verify_no_one():
    context = transports._trusting_no_one()
    assert context.verify_mode.name == "CERT_REQUIRED" and context.check_hostname
    assert context.get_ca_certs() == []


def test_a_proxy_in_the_environment_leaves_the_choice_to_httpx(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert transports.shared_transport() is None

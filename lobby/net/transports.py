"""httpx transports for the adapters' clients: TLS set up once, and only when used.

httpx makes a TLS context for every client and reads the whole CA bundle each time (about 17 ms
of CPU), although the console's clients (TeamBattles, its event stream, FlexMatch) all trust the
same authorities, and on the emulator (plain HTTP on loopback) none of them ever uses TLS.
:func:`shared_transport` gives each client its own transport that sends plain HTTP at once and
makes the one verified context (:func:`tls_context`, off the event loop) at its first HTTPS
request.

The early listing of start-up (:mod:`lobby.cli.early`) records the TeamBattles reads of its
helper process (:class:`RecordingTransport`); the console's own first listing, moments later,
is answered from them (:class:`PrimedTransport`) rather than sending each read twice.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context httpx would make (certifi's authorities, or SSL_CERT_FILE and
    SSL_CERT_DIR when set), made once per process."""
    return httpx.create_ssl_context()


def _trusting_no_one() -> ssl.SSLContext:
    """A context that verifies against no authority at all: any TLS handshake with it fails.
    The plain-HTTP side of :class:`SchemeTransport` never uses it; it only stands in for the
    CA bundle httpx would otherwise read."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname checks and verification stay on


class SchemeTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, one per scheme, each made at its first request: ``http://``
    requests never read the CA bundle, ``https://`` ones verify with :func:`tls_context`."""

    def __init__(self) -> None:
        self._plain: httpx.AsyncHTTPTransport | None = None
        self._tls: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            if self._tls is None:
                context = await asyncio.to_thread(tls_context)  # reads files: off the loop
                if self._tls is None:
                    self._tls = httpx.AsyncHTTPTransport(verify=context)
            return await self._tls.handle_async_request(request)
        if self._plain is None:
            self._plain = httpx.AsyncHTTPTransport(verify=_trusting_no_one())
        return await self._plain.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in (self._plain, self._tls):
            if transport is not None:
                await transport.aclose()


def proxy_configured() -> bool:
    """Whether the environment names a proxy (only httpx's own transports honour it)."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(k) for k in ("http", "https", "all"))


def shared_transport() -> httpx.AsyncBaseTransport | None:
    """A new :class:`SchemeTransport`; None when the environment names a proxy: a client given
    no transport then picks the transports that honour it."""
    if proxy_configured():
        return None
    return SchemeTransport()


# --- the early listing's responses, recorded by the helper and replayed once here -------------

#: A response's extension: when it arrived here (time.time()); a replayed response keeps the
#: time it first arrived, so the service's time it carries is read against that moment.
RECEIVED_AT = "lobby.received_at"
#: How long a recorded response may stand in for asking again.
PRIMED_SECONDS = 5.0
#: A request's extension: True on a read sent as a POST (a query with a body, as TeamBattles'
#: match searches are); a GET is a read by its method.
READ = "lobby.read"


def is_read(request: httpx.Request) -> bool:
    """Whether ``request`` only reads: a GET, or a request its client marked :data:`READ`."""
    return request.method == "GET" or request.extensions.get(READ) is True


@dataclass(frozen=True, slots=True)
class Recorded:
    """A read's answer (200, the whole body), as it arrived."""

    url: str
    headers: list[tuple[str, str]]
    body: bytes
    received_at: float
    method: str = "GET"
    #: The request's own body (a query's filters), which a replay must match too.
    request_body: bytes = b""

    @property
    def key(self) -> tuple[str, str, bytes]:
        return self.method, self.url, self.request_body

    def json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "headers": [list(pair) for pair in self.headers],
            "body": base64.b64encode(self.body).decode("ascii"),
            "at": self.received_at,
            "method": self.method,
            "request_body": base64.b64encode(self.request_body).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: object) -> Recorded:
        """The inverse of :meth:`json`; ValueError when ``data`` is not one."""
        if not isinstance(data, dict):
            raise ValueError("not a recorded response")
        url, headers, body, at = data.get("url"), data.get("headers"), data.get("body"), data.get("at")
        if not (isinstance(url, str) and isinstance(body, str) and isinstance(at, (int, float))) or isinstance(at, bool):
            raise ValueError("not a recorded response")
        if not isinstance(headers, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
            for pair in headers
        ):
            raise ValueError("not a recorded response's headers")
        method, sent = data.get("method", "GET"), data.get("request_body", "")
        if not isinstance(method, str) or not isinstance(sent, str):
            raise ValueError("not a recorded request")
        try:
            decoded, sent_bytes = base64.b64decode(body, validate=True), base64.b64decode(sent, validate=True)
        except binascii.Error:
            raise ValueError("not a recorded response's body") from None
        return cls(url, [(name, value) for name, value in headers], decoded, float(at), method, sent_bytes)


class RecordingTransport(httpx.AsyncBaseTransport):
    """``inner``, keeping every read (:func:`is_read`) answered 200 (not a stream of events),
    for :class:`PrimedTransport` to replay in another process."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.recorded: list[Recorded] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        streamed = response.headers.get("content-type", "").startswith("text/event-stream")
        if not is_read(request) or response.status_code != 200 or streamed:
            return response
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        received_at = time.time()
        headers = list(response.headers.multi_items())
        sent = request.content  # a request built with its whole body (httpx's content=)
        self.recorded.append(Recorded(str(request.url), headers, body, received_at, request.method, sent))
        return httpx.Response(200, headers=response.headers, content=body, extensions={RECEIVED_AT: received_at})

    async def aclose(self) -> None:
        await self._inner.aclose()


class PrimedTransport(httpx.AsyncBaseTransport):
    """``inner``, but a read (:func:`is_read`) recorded with the same method, URL and body is
    answered once from the recording, while it is at most :data:`PRIMED_SECONDS` old: the same
    reads, asked again moments later, are not sent twice. ``recorded`` gives them, asked once,
    at the first read (they may still be on their way when the transport is made)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        recorded: Callable[[], Iterable[Recorded]],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._source: Callable[[], Iterable[Recorded]] | None = recorded
        self._recorded: dict[tuple[str, str, bytes], list[Recorded]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if is_read(request):
            found = self._take((request.method, str(request.url), request.content))
            if found is not None:
                return httpx.Response(
                    200, headers=found.headers, content=found.body, extensions={RECEIVED_AT: found.received_at}
                )
        return await self._inner.handle_async_request(request)

    def _take(self, key: tuple[str, str, bytes]) -> Recorded | None:
        source, self._source = self._source, None
        if source is not None:
            for item in source():
                self._recorded.setdefault(item.key, []).append(item)
        now = self._clock()
        waiting = [item for item in self._recorded.pop(key, []) if now - item.received_at <= PRIMED_SECONDS]
        if not waiting:
            return None
        if len(waiting) > 1:
            self._recorded[key] = waiting[1:]
        return waiting[0]

    async def aclose(self) -> None:
        self._recorded.clear()
        await self._inner.aclose()

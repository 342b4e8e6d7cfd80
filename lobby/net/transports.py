"""httpx transports for the adapters' clients: TLS set up once, and only when used.

httpx makes a TLS context for every client and reads the whole CA bundle each time (about 17 ms
of CPU), although the console's clients (TeamBattles, its event stream, FlexMatch) all trust the
same authorities, and on the emulator (plain HTTP on loopback) none of them ever uses TLS.
:func:`shared_transport` gives each client its own transport that sends plain HTTP at once and
makes the one verified context (:func:`tls_context`, off the event loop) at its first HTTPS
request.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import urllib.request

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

"""httpx transports for the adapters' clients, sharing one TLS context.

httpx makes a TLS context for every client, reading the whole CA bundle each time (about 17 ms
of CPU), although the console's clients (TeamBattles, its event stream, FlexMatch) all trust
the same authorities. :func:`shared_transport` gives each client its own transport over the one
context, made once.
"""

from __future__ import annotations

import functools
import ssl
import urllib.request

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context httpx would make (certifi's authorities, or SSL_CERT_FILE and
    SSL_CERT_DIR when set), made once per process."""
    return httpx.create_ssl_context()


def shared_transport() -> httpx.AsyncBaseTransport | None:
    """A new transport over :func:`tls_context`; None when the environment names a proxy: a
    client given no transport then picks the transports that honour it."""
    proxies = urllib.request.getproxies()
    if any(proxies.get(k) for k in ("http", "https", "all")):
        return None
    return httpx.AsyncHTTPTransport(verify=tls_context())

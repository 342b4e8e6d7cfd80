"""The server behind `lobby web`: textual-serve, accepting only its own origin.

A browser lets any page it shows open a WebSocket to any address, loopback included, and send
the page's Origin with it; a rebound DNS name reaches loopback with a foreign Host. So the page,
its files and its WebSocket are served only to requests whose Host is one this server is reached
at (its address, ``localhost`` for a loopback one, the ``--public-url``), and the WebSocket only
to a page of one of those origins. Each WebSocket runs one `lobby moderate`: their number is capped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: Browser sessions (each one a `lobby moderate` process) served at once, unless told otherwise.
MAX_SESSIONS = 8

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _netloc(host: str, port: int, scheme: str = "http") -> str:
    default = 443 if scheme == "https" else 80
    return host if port == default else f"{host}:{port}"


def served_at(host: str, port: int, public_url: str | None, *, loopback: bool) -> tuple[frozenset[str], frozenset[str]]:
    """The Host values and the origins this server answers to."""
    names = [f"[{host}]" if ":" in host and not host.startswith("[") else host]
    if loopback:
        names += LOOPBACK_NAMES
    hosts = {_netloc(name, port) for name in names}
    origins = {f"http://{h}" for h in hosts}
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme and parts.netloc:
            hosts.add(parts.netloc.lower())
            origins.add(f"{parts.scheme.lower()}://{parts.netloc.lower()}")
    return frozenset(h.lower() for h in hosts), frozenset(origins)


class GuardedServer(Server):
    """textual-serve refusing foreign Hosts and Origins, with a cap on live sessions."""

    def __init__(
        self,
        command: str,
        *,
        host: str,
        port: int,
        title: str,
        public_url: str | None,
        loopback: bool,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        self.hosts, self.origins = served_at(host, port, public_url, loopback=loopback)
        self.max_sessions = max_sessions
        self.sessions = 0
        self.refused = 0

    def _refuse(self, request: web.Request) -> str | None:
        """Why the request is refused; None when it is not."""
        if request.host.lower() not in self.hosts:
            return "this server is not reached at that host"
        origin = request.headers.get("Origin")
        if request.path == "/ws":
            if origin is None or origin.lower() not in self.origins:
                return "the console accepts WebSockets from its own page only"
        elif origin is not None and origin.lower() not in self.origins and origin != "null":
            return "requests from other sites are refused"
        return None

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        reason = self._refuse(request)
        if reason is not None:
            self.refused += 1
            raise web.HTTPForbidden(text=reason)
        response = await handler(request)
        if not response.prepared:
            # No other site may frame the console (clickjacking).
            response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if self.sessions >= self.max_sessions:
            raise web.HTTPServiceUnavailable(
                text=f"{self.max_sessions} console sessions are open already: close one and reload"
            )
        self.sessions += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1

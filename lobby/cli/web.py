"""The server behind `lobby web`: textual-serve, accepting only its own origin.

A browser lets any page it shows open a WebSocket to any address, loopback included, and send
the page's Origin with it; a rebound DNS name reaches loopback with a foreign Host. So the page,
its files and its WebSocket are served only to requests whose Host is one this server is reached
at (its address, ``localhost`` for a loopback one, the ``--public-url``), and the WebSocket only
to a page of one of those origins. Each WebSocket runs one console process (`lobby moderate`, or
`lobby` for the captain's console): their number is capped.

The page is textual-serve's (``page/app_index.html``) with, for the captain's console, a bar that
asks for the browser's notification permission on a click and a script (``page/notify.js``) that
shows the console's notifications: the console sends each as a meta packet of Textual's web
driver (:func:`lobby.tui.alerts.page_meta`), and :class:`PageAppService` passes its title and
body on to the page as a JSON text message, data for the Web Notifications API.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from lobby.tui.alerts import PAGE_META

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: Browser sessions (each one a console process) served at once, unless told otherwise.
MAX_SESSIONS = 8

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: The page's template and script (package data).
PAGE = Path(__file__).with_name("page")
#: Where the page's notification script is served.
SCRIPT_PATH = "/lobby/notify.js"
#: Characters of a notification's title or body passed to the page, at most (the console's own
#: limits are lower: see lobby.tui.alerts).
PAGE_TEXT_MAX = 400

log = logging.getLogger("lobby.web")


def page_message(meta: Mapping[str, object]) -> str | None:
    """The page's text message for a console's notification meta packet: its title and body
    only, as JSON; None when ``meta`` is not one."""
    title, body = meta.get("title"), meta.get("body")
    if meta.get("type") != PAGE_META or not isinstance(title, str) or not isinstance(body, str):
        return None
    return json.dumps([PAGE_META, {"title": title[:PAGE_TEXT_MAX], "body": body[:PAGE_TEXT_MAX]}])


class PageAppService(AppService):
    """textual-serve's link to one console process, which also passes the console's
    notifications on to its page."""

    async def on_meta(self, data: bytes) -> None:
        meta = json.loads(data)
        message = page_message(meta) if isinstance(meta, dict) else None
        if message is None:
            await super().on_meta(data)
        else:
            await self.remote_write_str(message)


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
        notifications: bool = False,
    ) -> None:
        """``notifications``: the page offers the browser's notifications of the console's
        alerts (the captain's console)."""
        super().__init__(command, host=host, port=port, title=title, public_url=public_url, templates_path=PAGE)
        self.notifications = notifications
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
        app.router.add_get(SCRIPT_PATH, self.handle_script)
        page = aiohttp_jinja2.get_env(app).globals
        page["lobby_notifications"] = self.notifications
        page["lobby_script_url"] = f"{self.public_url.rstrip('/')}{SCRIPT_PATH}"
        return app

    async def handle_script(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(PAGE / "notify.js", headers={"Content-Type": "text/javascript; charset=utf-8"})

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if self.sessions >= self.max_sessions:
            raise web.HTTPServiceUnavailable(
                text=f"{self.max_sessions} console sessions are open already: close one and reload"
            )
        self.sessions += 1
        try:
            return await self._session(request)
        finally:
            self.sessions -= 1

    async def _session(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's session (its Server.handle_websocket), with a :class:`PageAppService`:
        one console process, driven by the page's WebSocket."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: AppService | None = None

        async def close() -> None:
            await websocket.close()

        try:
            await websocket.prepare(request)
            app_service = PageAppService(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            try:
                await self._process_messages(websocket, app_service)
            finally:
                await app_service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("the console session ended on an error")
        finally:
            if app_service is not None:
                await app_service.stop()
        return websocket

"""The wire protocols GameLift speaks, as two small ASGI endpoints.

- AWS JSON 1.1: ``POST /`` with ``X-Amz-Target: GameLift.<Operation>`` and a JSON body;
  errors are ``{"__type": "<Code>", "message": "..."}``. Timestamps are epoch seconds.
- Smithy RPC v2 CBOR: ``POST /service/GameLift/operation/<Operation>`` with
  ``smithy-protocol: rpc-v2-cbor`` and a CBOR body; responses carry the same header, errors a
  CBOR map with ``__type`` (the shape id) and ``message``; timestamps are CBOR tag 1.

Both decode the body, hand it to :meth:`FlexMatchService.invoke` (in the region the request's
SigV4 credential scope names, else the emulator's) and encode what comes back.
Operations run inside :meth:`Store.grouped`: requests that arrive together share one COMMIT,
scheduled on the event loop right after them, and each answers once that commit is done (a
failed group commit answers 500 InternalServiceException, as nothing of the request was kept).
They are plain ASGI callables mounted as Starlette routes, without request/response objects,
because AcceptMatch is on the hot path of every console. Nothing a client sends can produce a
500: unreadable bodies, unknown operations and wrong content types are 4xx answers in the
protocol's error shape; only a fault of the emulator itself answers 500
InternalServiceException.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Any

import cbor2
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from lobby.emulator.flexmatch.errors import (
    GameLiftError,
    InternalServiceException,
    RequestEntityTooLargeException,
    SerializationException,
    UnknownOperationException,
    UnsupportedMediaTypeException,
)
from lobby.emulator.flexmatch.notifications import random_uuid
from lobby.emulator.flexmatch.service import FlexMatchService
from lobby.emulator.flexmatch.sigv4 import SigV4Verifier, signed_region
from lobby.emulator.store import CommitGroup

log = logging.getLogger("lobby.emulator.flexmatch")

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
JSON_CONTENT_TYPES = frozenset({JSON_CONTENT_TYPE, "application/x-amz-json-1.0", "application/json"})
CBOR_CONTENT_TYPE = "application/cbor"
TARGET_PREFIX = "GameLift."
SERVICE_NAME = "GameLift"
SHAPE_NAMESPACE = "com.amazonaws.gamelift#"
JSON_PATH = "/"
CBOR_PATH = "/service/{service}/operation/{operation}"

_JSON_TYPE_HEADER = (b"content-type", JSON_CONTENT_TYPE.encode())
_CBOR_TYPE_HEADER = (b"content-type", CBOR_CONTENT_TYPE.encode())
_SMITHY_HEADER = (b"smithy-protocol", b"rpc-v2-cbor")


def _media_type(value: bytes | None) -> str:
    return (value or b"").decode("latin-1").split(";", 1)[0].strip().lower()


#: The largest body read. The largest input the model allows (a 65,535-character rule set body,
#: or 200 players with their attributes and latencies) is far below it.
MAX_BODY_BYTES = 1024 * 1024


def _too_large() -> RequestEntityTooLargeException:
    return RequestEntityTooLargeException(f"The request body is larger than {MAX_BODY_BYTES} bytes.")


class ClientLeft(Exception):
    """The client went away before its whole body arrived: nothing runs, nobody is answered."""


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    """The whole request body; refused once it passes :data:`MAX_BODY_BYTES` (or declares a
    length past it), without reading on. A body cut short (the client left before its end)
    raises :class:`ClientLeft`: a request runs only on all of what was sent, even when the part
    received parses."""
    (length,) = _headers(scope, b"content-length")
    if length is not None and length.isdigit() and (len(length) > 9 or int(length) > MAX_BODY_BYTES):
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientLeft
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body"):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _not_json(name: str) -> Any:
    """NaN, Infinity and -Infinity are not JSON, though Python's parser takes them."""
    raise ValueError(f"{name} is not JSON")


def _dump_json(output: Any) -> bytes:
    try:
        return json.dumps(output, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:  # a double that is NaN or infinite (CBOR carries them): a JSON string
        return json.dumps(_finite(output), separators=(",", ":")).encode()


def _finite(value: Any) -> Any:
    """AWS JSON writes the doubles JSON has no number for as "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


async def _reply(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _committed(group: CommitGroup) -> bool:
    """Wait until ``group`` has committed; False if its commit failed."""
    if not group.done:
        waiter = asyncio.get_running_loop().create_future()
        group.when_done(lambda: _wake(waiter))
        await waiter
    return not group.failed


def _headers(scope: Scope, *names: bytes) -> list[bytes | None]:
    """The values of the wanted (lower-case) headers, None for absent ones."""
    found: list[bytes | None] = [None] * len(names)
    for key, value in scope["headers"]:
        if key in names:
            found[names.index(key)] = value
    return found


class _Endpoint:
    def __init__(self, service: FlexMatchService, verifier: SigV4Verifier | None) -> None:
        self.service = service
        self.store = service.store
        self.model = service.model
        self.operations = frozenset(service.model.operations)
        self.verifier = verifier

    def _verify(self, scope: Scope, body: bytes) -> None:
        if self.verifier is not None:
            self.verifier.verify(Request(scope), body)

    def _pending(self) -> CommitGroup | None:
        """The group transaction the request just ran in (or read from), its commit scheduled
        on the event loop after the requests already waiting to run."""
        group = self.store.group
        if group is not None and not group.scheduled:
            group.scheduled = True
            asyncio.get_running_loop().call_soon(self.store.commit_group, group)
        return group

    #: Whether errors are answered in RPC v2 CBOR (else in JSON 1.1).
    cbor = False

    def _request(self, scope: Scope, body: bytes) -> tuple[str, Any]:
        """The operation asked for and its input; raises GameLiftError."""
        raise NotImplementedError

    def _answer(self, operation: str, output: Any, request_id: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        """The body and headers of a successful answer."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = random_uuid().encode()
        group = None
        try:
            body = await _read_body(scope, receive)
            self._verify(scope, body)
            operation, params = self._request(scope, body)
            (authorization,) = _headers(scope, b"authorization")
            region = signed_region(authorization.decode("latin-1")) if authorization else None
            try:
                with self.store.grouped():
                    output = self.service.invoke(operation, params, region)
            finally:
                group = self._pending()
            status = 200
            content, headers = self._answer(operation, output, request_id)
        except GameLiftError as exc:
            status, content, headers = error_answer(exc, request_id, cbor=self.cbor)
        except ClientLeft:
            log.debug("client left before sending its whole body")
            return
        except Exception:
            log.exception("FlexMatch request failed")
            status, content, headers = error_answer(
                InternalServiceException("The emulator failed while handling the request."),
                request_id,
                cbor=self.cbor,
            )
        if group is not None and not await _committed(group):
            status, content, headers = error_answer(
                InternalServiceException("The emulator failed to store the request's changes."),
                request_id,
                cbor=self.cbor,
            )
        await _reply(send, status, content, headers)


class JsonEndpoint(_Endpoint):
    """AWS JSON 1.1 at ``POST /``."""

    def _request(self, scope: Scope, body: bytes) -> tuple[str, Any]:
        target, content_type = _headers(scope, b"x-amz-target", b"content-type")
        if target is None:
            raise UnknownOperationException(
                "The request has no X-Amz-Target header naming the operation"
                " (GameLift.<Operation>)."
            )
        name = target.decode("latin-1")
        operation = name[len(TARGET_PREFIX) :] if name.startswith(TARGET_PREFIX) else None
        if operation not in self.operations:
            raise UnknownOperationException(
                f"{name!r} is not an operation of this service; use"
                f" X-Amz-Target: {TARGET_PREFIX}<Operation>."
            )
        if _media_type(content_type) not in JSON_CONTENT_TYPES:
            raise UnsupportedMediaTypeException(f"Send the request body as {JSON_CONTENT_TYPE}.")
        if body.strip():
            try:
                params = json.loads(body, parse_constant=_not_json)
            except (ValueError, RecursionError):
                raise SerializationException("The request body is not valid JSON.") from None
        else:
            params = {}
        return operation, params

    def _answer(self, operation: str, output: Any, request_id: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        content = _dump_json(output) if output else b"{}"
        return content, [_JSON_TYPE_HEADER, (b"x-amzn-requestid", request_id)]


class CborEndpoint(_Endpoint):
    """Smithy RPC v2 CBOR at ``POST /service/GameLift/operation/<Operation>``."""

    cbor = True

    def _request(self, scope: Scope, body: bytes) -> tuple[str, Any]:
        service = scope["path_params"]["service"]
        operation = scope["path_params"]["operation"]
        if service != SERVICE_NAME or operation not in self.operations:
            error = UnknownOperationException(
                f"{service}/{operation} is not an operation of this service."
            )
            error.status = 404
            raise error
        protocol, content_type = _headers(scope, b"smithy-protocol", b"content-type")
        if protocol != b"rpc-v2-cbor":
            raise SerializationException(
                "An RPC v2 CBOR request needs the header smithy-protocol: rpc-v2-cbor."
            )
        if body and _media_type(content_type) != CBOR_CONTENT_TYPE:
            raise UnsupportedMediaTypeException(f"Send the request body as {CBOR_CONTENT_TYPE}.")
        if body:
            try:
                params: Any = cbor2.loads(body)
            except Exception:
                raise SerializationException("The request body is not valid CBOR.") from None
        else:
            params = {}
        return operation, params

    def _answer(self, operation: str, output: Any, request_id: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        content = cbor2.dumps(self.model.to_cbor(operation, output))
        return content, [_CBOR_TYPE_HEADER, _SMITHY_HEADER, (b"x-amzn-requestid", request_id)]


def error_answer(
    exc: GameLiftError, request_id: bytes, *, cbor: bool
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """The status, body and headers that answer ``exc``: in JSON 1.1 (``__type`` is the code,
    and X-Amzn-ErrorType repeats it) or, with ``cbor``, in RPC v2 CBOR (``__type`` is the
    shape id)."""
    if cbor:
        content = cbor2.dumps({"__type": SHAPE_NAMESPACE + exc.code, "message": exc.message})
        return exc.status, content, [_CBOR_TYPE_HEADER, _SMITHY_HEADER, (b"x-amzn-requestid", request_id)]
    content = json.dumps({"__type": exc.code, "message": exc.message}).encode()
    headers = [
        _JSON_TYPE_HEADER,
        (b"x-amzn-requestid", request_id),
        (b"x-amzn-errortype", exc.code.encode()),
    ]
    return exc.status, content, headers


class FastPath:
    """The ASGI app uvicorn serves: the two GameLift routes go straight to their endpoints,
    everything else (other paths and methods, lifespan, websockets) to ``app``.

    The same endpoints are also mounted in ``app`` as Starlette routes (so the app alone, e.g.
    under an ASGI test client, serves them too); this only spares the hot path FastAPI's
    middleware stack and router, which cost about as much as an AcceptMatch itself. The paths
    matched are exactly those routes' (``/`` and ``/service/{service}/operation/{operation}``
    with non-empty segments); anything else falls through to ``app`` and its 404/405 answers.
    """

    __slots__ = ("app", "json", "cbor")

    def __init__(self, app: ASGIApp, json: JsonEndpoint, cbor: CborEndpoint) -> None:
        self.app = app
        self.json = json
        self.cbor = cbor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            if path == JSON_PATH:
                return await self.json(scope, receive, send)
            if path.startswith("/service/"):
                parts = path.split("/")
                if len(parts) == 5 and parts[2] and parts[3] == "operation" and parts[4]:
                    scope["path_params"] = {"service": parts[2], "operation": parts[4]}
                    return await self.cbor(scope, receive, send)
        await self.app(scope, receive, send)

"""Recorders around the two entry points, for the /demo/wire/ page: what the server really handed
Django for one request, and what Django handed back.

- `WSGIWireRecorder` wraps the WSGI application (myproject/wsgi.py): it sees the `environ` Gunicorn
  built and the `start_response(status, headers)` call Django made.
- `ASGIWireRecorder` wraps the ASGI application (myproject/asgi.py): it sees the `scope` and every
  event that passes through `receive` and `send`, for HTTP and for the page's WebSocket.

They record only the wire paths, CAPTURE_PATH (HTTP, either stack) and SOCKET_PATH (the echo socket
of demo/consumers.py, ASGI only); every other request costs one dictionary lookup and a comparison,
since the ASGI stack's CPU per request is measured closely (docs/asgi-tax.md). A recorded trace is
masked and bounded (myproject/wire/trace.py) and stored for TRACE_SECONDS in the "wire" cache,
under a random token: shared through Redis by every process of both stacks, since the page's next
request may reach another worker, or the other stack. The token reaches the page in the
X-Wire-Trace response header (HTTP) or in the echo socket's first frame (WebSocket).

Each capture spends from a budget per client and one for everybody (myproject/wire/budget.py): past
it, the recorder answers 429 with a JSON message itself, and Django never sees the request.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError

from myproject.client_address import forwarded_client, trusted_networks
from myproject.wire.budget import Refusal, aspend, spend
from myproject.wire.trace import (
    MAX_EVENTS,
    described_environ,
    described_event,
    described_headers,
    described_scope,
)

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from asgiref.typing import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, ASGISendEvent, Scope

logger = logging.getLogger(__name__)

CAPTURE_PATH = "/demo/wire/capture/"
SOCKET_PATH = "/ws/wire/"
RECORDED_PATHS = frozenset({CAPTURE_PATH, SOCKET_PATH})
TRACE_HEADER = "X-Wire-Trace"
# The scope key through which the echo consumer learns its trace's token (Channels' middleware
# adds keys to the scope the same way: `user`, `session`, `url_route`).
SCOPE_TOKEN_KEY = "wire_trace"
TRACE_CACHE = "wire"
# The page fetches a trace within a second of its recording; a minute leaves time to open the JSON
# by hand, and keeps what anyone can make the server store (a few kilobytes per capture) short-lived.
TRACE_SECONDS = 60
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
# What the cache raises when Redis is away: the capture still answers, its trace is lost.
STORE_ERRORS = (RedisError, OSError)


def new_token() -> str:
    return secrets.token_urlsafe(16)  # 22 characters, 128 random bits


def trace_key(token: str) -> str:
    return f"wire-trace:{token}"


def stored_trace(token: str) -> dict[str, Any] | None:
    """The trace stored under `token`, or None: unknown, expired, or not a token at all."""
    if not _TOKEN.fullmatch(token):
        return None
    trace: dict[str, Any] | None = caches[TRACE_CACHE].get(trace_key(token))
    return trace


def store_trace(token: str, trace: dict[str, Any]) -> None:
    try:
        caches[TRACE_CACHE].set(trace_key(token), trace, TRACE_SECONDS)
    except STORE_ERRORS as error:
        logger.warning("could not store a wire trace (%r)", error)


async def astore_trace(token: str, trace: dict[str, Any]) -> None:
    try:
        await caches[TRACE_CACHE].aset(trace_key(token), trace, TRACE_SECONDS)
    except STORE_ERRORS as error:
        logger.warning("could not store a wire trace (%r)", error)


def refused_capture(refusal: Refusal, interface: str) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body of the 429 that answers a capture over budget."""
    body = json.dumps({"error": refusal.message}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Retry-After", str(refusal.retry_after)),
        ("Cache-Control", "no-store"),
        # What Django's middleware adds to every other response (myproject/middleware.py).
        ("X-Interface", interface),
    ]
    return headers, body


def over_budget(client: str) -> Refusal | None:
    try:
        return spend(client)
    except STORE_ERRORS:
        return None  # no Redis, no count; and no trace will be stored either


async def aover_budget(client: str) -> Refusal | None:
    try:
        return await aspend(client)
    except STORE_ERRORS:
        return None


# WSGI ---------------------------------------------------------------------------------------------


class WSGIWireRecorder:
    def __init__(self, application: WSGIApplication) -> None:
        self.application = application
        # Outermost, the recorder sees REMOTE_ADDR before myproject/client_address.py corrects it
        # behind a proxy: it makes the same correction for the budget's client address.
        self.trusted_proxies = trusted_networks(settings.FORWARDED_ALLOW_IPS)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != CAPTURE_PATH:
            return self.application(environ, start_response)
        client = forwarded_client(
            environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR", ""), self.trusted_proxies
        )
        if refusal := over_budget(client):
            headers, body = refused_capture(refusal, "wsgi")
            start_response("429 Too Many Requests", headers)
            return [body]
        return self.record(environ, start_response)

    def record(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        token = new_token()
        # Described now, before the application runs: this is the environ as the server built it.
        trace: dict[str, Any] = {
            "interface": "wsgi",
            "environ": described_environ(environ),
            "added_header": TRACE_HEADER,
        }

        def recording_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            trace["start_response"] = {"status": status, "headers": described_headers(headers)}
            return start_response(status, [*headers, (TRACE_HEADER, token)], exc_info)

        result = self.application(environ, recording_start_response)
        try:
            # Read whole (the capture's answer is a few hundred bytes) so that the trace is stored
            # before the server sends a byte: the page's next request can never arrive before it.
            body = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        trace["body"] = {"chunks": len(body), "bytes": sum(len(chunk) for chunk in body)}
        store_trace(token, trace)
        return body


# ASGI ---------------------------------------------------------------------------------------------


class ASGITrace:
    """The scope and the events of one connection, in the order they crossed the interface."""

    def __init__(self, scope: Scope, token: str) -> None:
        self.token = token
        self.trace: dict[str, Any] = {"interface": "asgi", "scope": described_scope(scope), "events": []}
        self.waiting_receives = 0
        self.stored = False

    def note(self, direction: str, event: Any) -> None:
        events = self.trace["events"]
        if len(events) < MAX_EVENTS:
            events.append(described_event(direction, event))
        else:
            self.trace["events_dropped"] = self.trace.get("events_dropped", 0) + 1

    def recording_receive(self, receive: ASGIReceiveCallable) -> Callable[[], Any]:
        async def recording() -> Any:
            self.waiting_receives += 1
            try:
                event = await receive()
            finally:
                self.waiting_receives -= 1
            self.note("received", event)
            return event

        return recording

    async def store(self) -> None:
        if not self.stored:
            self.stored = True
            # Django calls receive() again while the view runs, to hear of an early http.disconnect;
            # that call is still waiting when the response is complete, and is then cancelled.
            self.trace["waiting_receives"] = self.waiting_receives
            await astore_trace(self.token, self.trace)


def client_of(scope: Scope) -> str:
    # The server already put the visitor's address here behind a trusted proxy (FORWARDED_ALLOW_IPS).
    client: Any = scope.get("client")
    return str(client[0]) if client else ""


async def refuse_socket(
    refusal: Refusal, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    """Refuse the handshake: with the 429 and its message where the server lets the application
    answer a handshake with a response of its own (the ASGI "websocket.http.response" extension,
    which Uvicorn offers), else with the plain refusal every server knows (a 403)."""
    await receive()  # the websocket.connect
    extensions: Any = scope.get("extensions") or {}
    if "websocket.http.response" in extensions:
        headers, body = refused_capture(refusal, "asgi")
        encoded = [(name.lower().encode(), value.encode()) for name, value in headers]
        denial: Any = {"type": "websocket.http.response.start", "status": 429, "headers": encoded}
        await send(denial)
        await send({"type": "websocket.http.response.body", "body": body, "more_body": False})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": refusal.message[:120]})


class ASGIWireRecorder:
    def __init__(self, application: ASGI3Application | Any) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        path = scope.get("path")
        if path not in RECORDED_PATHS:  # the only work an ordinary request pays for
            await self.application(scope, receive, send)
        elif scope["type"] == "http" and path == CAPTURE_PATH:
            await self.record_http(scope, receive, send)
        elif scope["type"] == "websocket" and path == SOCKET_PATH:
            await self.record_websocket(scope, receive, send)
        else:
            await self.application(scope, receive, send)

    async def record_http(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        if refusal := await aover_budget(client_of(scope)):
            headers, body = refused_capture(refusal, "asgi")
            encoded = [(name.lower().encode(), value.encode()) for name, value in headers]
            start: Any = {"type": "http.response.start", "status": 429, "headers": encoded}
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        recording = ASGITrace(scope, new_token())
        recording.trace["added_header"] = TRACE_HEADER

        async def recording_send(event: ASGISendEvent) -> None:
            recording.note("sent", event)
            if event["type"] == "http.response.start":
                header = (TRACE_HEADER.lower().encode(), recording.token.encode())
                event = {**event, "headers": [*event.get("headers", []), header]}
            elif event["type"] == "http.response.body" and not event.get("more_body", False):
                # Stored before the last body event leaves: the page's next request cannot beat it.
                await recording.store()
            await send(event)

        try:
            await self.application(scope, recording.recording_receive(receive), recording_send)
        finally:
            await recording.store()

    async def record_websocket(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if refusal := await aover_budget(client_of(scope)):
            await refuse_socket(refusal, scope, receive, send)
            return
        recording = ASGITrace(scope, new_token())

        async def recording_send(event: ASGISendEvent) -> None:
            recording.note("sent", event)
            await send(event)

        # Given to the application, not recorded: the recorder's own addition to the scope.
        scope_with_token: Any = {**scope, SCOPE_TOKEN_KEY: recording.token}
        # A socket's trace is whole only once the application has seen websocket.disconnect.
        try:
            await self.application(scope_with_token, recording.recording_receive(receive), recording_send)
        finally:
            await recording.store()

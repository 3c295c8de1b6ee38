"""The /demo/wire/ captures' budget (myproject/wire/budget.py), and how the recorders refuse a
capture over it: 429 with a message, nothing recorded, the application never called."""

import asyncio
import json

import pytest
from django.core.cache import caches

from myproject.wire.budget import WINDOW_SECONDS, spend
from myproject.wire.recorders import (
    CAPTURE_PATH,
    SOCKET_PATH,
    TRACE_CACHE,
    ASGIWireRecorder,
    WSGIWireRecorder,
)

NOW = 1_000_000 * WINDOW_SECONDS + 15.0  # 15 s into a window


@pytest.fixture(autouse=True)
def small_budget(settings):
    settings.CACHES = {
        **settings.CACHES,
        TRACE_CACHE: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "wire-budget"},
    }
    caches[TRACE_CACHE].clear()
    settings.WIRE_CAPTURES_PER_CLIENT = 3
    settings.WIRE_CAPTURES_TOTAL = 5


def stored_traces() -> int:
    return sum(":wire-trace:" in key for key in caches[TRACE_CACHE]._cache)


def test_a_client_gets_its_budget_then_a_refusal_saying_when_to_come_back():
    assert [spend("10.0.0.1", NOW) for _ in range(3)] == [None, None, None]

    refusal = spend("10.0.0.1", NOW)

    assert refusal is not None
    assert refusal.retry_after == WINDOW_SECONDS - 15
    assert "this client has made 3 captures this minute" in refusal.message
    assert spend("10.0.0.2", NOW) is None  # another client still may


def test_the_total_bounds_every_client_together():
    assert [spend(f"10.0.0.{n}", NOW) for n in range(5)] == [None] * 5

    refusal = spend("10.0.0.99", NOW)

    assert refusal is not None
    assert "the server has recorded 5 captures this minute" in refusal.message


def test_a_client_over_its_own_budget_does_not_spend_the_total():
    for _ in range(50):
        spend("10.0.0.1", NOW)

    assert [spend(f"10.0.1.{n}", NOW) for n in range(2)] == [None, None]


def test_the_next_window_starts_afresh():
    for _ in range(4):
        spend("10.0.0.1", NOW)

    assert spend("10.0.0.1", NOW + WINDOW_SECONDS) is None


def wsgi_capture(remote_addr: str, calls: list) -> tuple[str, dict, bytes]:
    answer = {}

    def application(environ, start_response):
        calls.append(environ)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=dict(headers))

    environ = {"PATH_INFO": CAPTURE_PATH, "REQUEST_METHOD": "GET", "REMOTE_ADDR": remote_addr}
    body = b"".join(WSGIWireRecorder(application)(environ, start_response))
    return answer["status"], answer["headers"], body


def test_wsgi_a_capture_over_budget_is_answered_429_with_a_message_and_not_recorded():
    calls: list = []
    statuses = [wsgi_capture("10.0.0.1", calls)[0] for _ in range(3)]

    status, headers, body = wsgi_capture("10.0.0.1", calls)

    assert statuses == ["200 OK"] * 3
    assert status == "429 Too Many Requests"
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Retry-After"]) > 0
    assert headers["X-Interface"] == "wsgi"
    assert "Too many captures" in json.loads(body)["error"]
    assert (len(calls), stored_traces()) == (3, 3)


async def asgi_capture(scope: dict) -> list[dict]:
    sent: list[dict] = []

    async def application(scope, receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(event):
        sent.append(event)

    await ASGIWireRecorder(application)(scope, receive, send)
    return sent


def test_asgi_a_capture_over_budget_is_answered_429_with_a_message_and_not_recorded():
    scope = {"type": "http", "path": CAPTURE_PATH, "client": ("10.0.0.1", 5000), "headers": []}
    for _ in range(3):
        assert asyncio.run(asgi_capture(scope))[0]["status"] == 200

    start, body = asyncio.run(asgi_capture(scope))

    assert start["status"] == 429
    assert (b"x-interface", b"asgi") in start["headers"]
    assert "Too many captures" in json.loads(body["body"])["error"]
    assert stored_traces() == 3


async def asgi_socket(scope: dict) -> tuple[list[dict], list[dict]]:
    sent: list[dict] = []
    seen: list[dict] = []

    async def echo(scope, receive, send):
        seen.append(scope)
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        await receive()

    events = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]

    async def receive():
        return events.pop(0)

    async def send(event):
        sent.append(event)

    await ASGIWireRecorder(echo)(scope, receive, send)
    return sent, seen


@pytest.mark.parametrize(
    ("extensions", "answer"),
    [({"websocket.http.response": {}}, "websocket.http.response.start"), ({}, "websocket.close")],
    ids=["with-denial-response", "without"],
)
def test_asgi_a_socket_over_budget_is_refused_before_the_application_runs(extensions, answer):
    scope = {
        "type": "websocket",
        "path": SOCKET_PATH,
        "client": ("10.0.0.1", 5000),
        "headers": [],
        "extensions": extensions,
    }
    for _ in range(3):
        asyncio.run(asgi_socket(scope))

    sent, seen = asyncio.run(asgi_socket(scope))

    assert seen == []
    assert sent[0]["type"] == answer
    if extensions:
        assert sent[0]["status"] == 429
        assert "Too many captures" in json.loads(sent[1]["body"])["error"]

"""The recorders around the entry points, with fake servers and applications: what they pass
through untouched, what they record, and when the trace is stored."""

import asyncio

import pytest
from django.core.cache import caches

from myproject.wire.recorders import (
    CAPTURE_PATH,
    SCOPE_TOKEN_KEY,
    SOCKET_PATH,
    TRACE_CACHE,
    ASGIWireRecorder,
    WSGIWireRecorder,
    stored_trace,
)
from myproject.wire.trace import MAX_EVENTS


@pytest.fixture(autouse=True)
def empty_trace_cache(settings):
    # This process's memory, whatever cache REDIS_URL gives the run: its dict lists every key stored.
    settings.CACHES = {
        **settings.CACHES,
        TRACE_CACHE: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "wire-tests"},
    }
    caches[TRACE_CACHE].clear()


def stored_tokens() -> list[str]:
    # LocMemCache's own dict: every key stored, ":<version>:wire-trace:<token>" (and the budget's).
    return [key.rpartition(":")[2] for key in caches[TRACE_CACHE]._cache if ":wire-trace:" in key]


# WSGI ----------------------------------------------------------------------------------------------


class ClosingBody(list):
    closed = False

    def close(self):
        self.closed = True


def django_like_wsgi_app(environ, start_response):
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Set-Cookie", "sessionid=s3cret; HttpOnly")]
    )
    return ClosingBody([b'{"probe": ', b'"hello"}'])


def test_wsgi_other_paths_pass_through_untouched():
    calls = []

    def application(environ, start_response):
        calls.append((environ, start_response))
        return ["untouched"]

    environ, start_response = {"PATH_INFO": "/demo/sync/hello/"}, object()
    result = WSGIWireRecorder(application)(environ, start_response)

    assert result == ["untouched"]
    assert calls == [(environ, start_response)]
    assert calls[0][1] is start_response
    assert stored_tokens() == []


def test_wsgi_capture_records_environ_and_start_response_and_names_the_trace_in_a_header():
    sent = {}

    def server_start_response(status, headers, exc_info=None):
        sent.update(status=status, headers=dict(headers))

    environ = {"PATH_INFO": CAPTURE_PATH, "REQUEST_METHOD": "GET", "HTTP_COOKIE": "sessionid=s3cret"}
    body = WSGIWireRecorder(django_like_wsgi_app)(environ, server_start_response)

    assert b"".join(body) == b'{"probe": "hello"}'
    trace = stored_trace(sent["headers"]["X-Wire-Trace"])
    assert trace["start_response"] == {
        "status": "200 OK",
        "headers": [["Content-Type", "application/json"], ["Set-Cookie", "sessionid=<masked>; HttpOnly"]],
    }
    assert trace["body"] == {"chunks": 2, "bytes": len(b'{"probe": "hello"}')}
    assert {"key": "HTTP_COOKIE", "type": "str", "value": "sessionid=<masked>"} in trace["environ"]["http"]
    assert "s3cret" not in str(trace)


def test_wsgi_capture_closes_the_applications_response():
    responses = []

    def application(environ, start_response):
        responses.append(django_like_wsgi_app(environ, start_response))
        return responses[-1]

    WSGIWireRecorder(application)({"PATH_INFO": CAPTURE_PATH}, lambda *args: None)

    assert responses[0].closed


def test_wsgi_capture_still_answers_when_redis_is_unreachable(settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        TRACE_CACHE: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }

    body = WSGIWireRecorder(django_like_wsgi_app)({"PATH_INFO": CAPTURE_PATH}, lambda *args: None)

    assert b"".join(body) == b'{"probe": "hello"}'
    assert "could not store a wire trace" in caplog.text


# ASGI ----------------------------------------------------------------------------------------------


def run(coroutine):
    return asyncio.run(coroutine)


def test_asgi_other_paths_and_lifespan_pass_through_untouched():
    calls = []

    async def application(scope, receive, send):
        calls.append((scope, receive, send))

    async def receive():
        return {}

    async def send(event):
        pass

    for scope in ({"type": "http", "path": "/demo/async/hello/"}, {"type": "lifespan"}):
        run(ASGIWireRecorder(application)(scope, receive, send))
        assert calls[-1][0] is scope
        assert calls[-1][1] is receive
        assert calls[-1][2] is send
    assert stored_tokens() == []


async def django_like_asgi_app(scope, receive, send):
    while (await receive()).get("more_body"):
        pass
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": b"{}", "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def test_asgi_capture_records_the_scope_and_events_and_stores_them_before_the_last_body_leaves():
    received = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"c", "more_body": False},
    ]
    sent, stored_when_sent = [], []

    async def receive():
        return received.pop(0)

    async def send(event):
        sent.append(event)
        tokens = [value.decode() for name, value in event.get("headers", []) if name == b"x-wire-trace"]
        if tokens:
            sent_token.append(tokens[0])
        stored_when_sent.append(stored_trace(sent_token[0]) is not None)

    sent_token: list[str] = []
    scope = {"type": "http", "path": CAPTURE_PATH, "headers": [(b"cookie", b"sessionid=s3cret")]}
    run(ASGIWireRecorder(django_like_asgi_app)(scope, receive, send))

    # The trace is in the cache before the final body event reaches the server, not before.
    assert stored_when_sent == [False, False, True]
    trace = stored_trace(sent_token[0])
    assert [(event["direction"], event["type"]) for event in trace["events"]] == [
        ("received", "http.request"),
        ("received", "http.request"),
        ("sent", "http.response.start"),
        ("sent", "http.response.body"),
        ("sent", "http.response.body"),
    ]
    assert [event.get("body_bytes") for event in trace["events"]] == [2, 1, None, 2, 0]
    # The recorder's header goes to the server, not into the record of what Django sent.
    assert trace["events"][2]["headers"] == [["content-type", "application/json"]]
    assert trace["scope"]["headers"] == [["cookie", "sessionid=<masked>"]]


def test_asgi_capture_stores_what_it_saw_when_the_application_fails():
    async def failing(scope, receive, send):
        await receive()
        raise RuntimeError("the view failed")

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(event):
        pass

    with pytest.raises(RuntimeError):
        run(ASGIWireRecorder(failing)({"type": "http", "path": CAPTURE_PATH}, receive, send))

    (token,) = stored_tokens()
    assert [event["type"] for event in stored_trace(token)["events"]] == ["http.request"]


def test_asgi_socket_gets_its_token_in_the_scope_and_its_trace_is_stored_when_it_ends():
    seen_scopes = []

    async def echo(scope, receive, send):
        seen_scopes.append(scope)
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        await receive()

    events = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]

    async def receive():
        return events.pop(0)

    async def send(event):
        pass

    scope = {"type": "websocket", "path": SOCKET_PATH, "headers": []}
    run(ASGIWireRecorder(echo)(scope, receive, send))

    token = seen_scopes[0][SCOPE_TOKEN_KEY]
    assert SCOPE_TOKEN_KEY not in scope
    trace = stored_trace(token)
    assert [event["type"] for event in trace["events"]] == [
        "websocket.connect",
        "websocket.accept",
        "websocket.close",
        "websocket.disconnect",
    ]
    assert SCOPE_TOKEN_KEY not in str(trace["scope"])


def test_asgi_a_chatty_connection_stores_a_bounded_trace():
    async def chatty(scope, receive, send):
        for _ in range(MAX_EVENTS + 25):
            await send({"type": "websocket.send", "text": "x"})

    async def send(event):
        pass

    run(ASGIWireRecorder(chatty)({"type": "websocket", "path": SOCKET_PATH}, None, send))

    (token,) = stored_tokens()
    trace = stored_trace(token)
    assert len(trace["events"]) == MAX_EVENTS
    assert trace["events_dropped"] == 25

"""Django's request signals under both ASGI stacks: every receiver still runs, once per request, in
order, and on the async-native stack on the request's own thread, where the database connection
lives (async_native/handler.py, `send_request_started`).

The handlers are called in process (tests/async_native/asgi_calls.py); `stack` runs a test on both."""

import asyncio
import gc
import threading
import warnings

import pytest
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from django.db.backends.signals import connection_created
from django.urls import get_script_prefix

from async_native.handler import THREAD_TIDYING_RECEIVERS, PooledThreadASGIHandler
from tests.async_native.asgi_calls import http_scope, serve, status_of


@pytest.fixture
def events() -> list[tuple[str, str]]:
    """(event, thread name) for each request signal a receiver got, and each database connection."""
    seen: list[tuple[str, str]] = []

    def recorder(event: str):
        def record(**kwargs) -> None:
            seen.append((event, threading.current_thread().name))

        return record

    receivers = {
        signals.request_started: recorder("started"),
        signals.request_finished: recorder("finished"),
        connection_created: recorder("connected"),
    }
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    yield seen
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


def names(events: list[tuple[str, str]]) -> list[str]:
    return [event for event, _ in events]


def threads(events: list[tuple[str, str]]) -> set[str]:
    return {thread for _, thread in events}


async def test_an_async_view_sends_both_signals_once_in_order(stack, events):
    assert status_of(await serve(stack, "/demo/async/hello/")) == 200

    assert names(events) == ["started", "finished"]


async def test_with_a_receiver_of_its_own_the_async_native_stack_sends_the_signals_as_django_does(
    async_native, events, hops
):
    # A receiver that is not one of Django's tidying ones: request_started gets its hop before the
    # middleware, and request_finished comes from response.close(), both on the request's thread.
    await serve(async_native, "/demo/async/hello/")

    assert hops == [
        "sync_to_async('Signal.asend.<locals>.sync_send')",
        "sync_to_async('HttpResponseBase.close')",
    ]
    (thread,) = threads(events)
    assert thread.startswith("django-request")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("view", ["/demo/sync/db/", "/demo/async/db/"])
async def test_request_started_reaches_the_thread_before_the_request_opens_a_connection(
    stack, events, view, asgi_connection_policy
):
    assert status_of(await serve(stack, view)) == 200

    assert names(events) == ["started", "connected", "finished"]
    if stack.__class__.__name__ == "PooledThreadASGIHandler":
        (thread,) = threads(events)
        assert thread.startswith("django-request")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("view", ["/demo/sync/db/", "/demo/async/db/"])
async def test_the_request_threads_database_connection_is_closed_on_that_thread_when_the_request_ends(
    stack, monkeypatch, view, asgi_connection_policy
):
    opened, closed = [], []
    wrapper_class = type(connections["default"])
    close = wrapper_class.close

    def recorded_close(self) -> None:
        # The suite's in-memory SQLite ignores close() (it would lose the database), so record it.
        if self.connection is not None:
            closed.append((self, threading.current_thread().name))
        close(self)

    def record_opened(connection, **kwargs) -> None:
        opened.append((connection, threading.current_thread().name))

    monkeypatch.setattr(wrapper_class, "close", recorded_close)
    connection_created.connect(record_opened)
    try:
        assert status_of(await serve(stack, view)) == 200
    finally:
        connection_created.disconnect(record_opened)

    assert len(opened) == 1
    assert closed == opened


async def test_a_client_that_disconnects_still_gets_both_signals_on_its_thread(stack, events):
    sent = await serve(stack, "/demo/async/sleep/", "ms=5000", disconnect_after=0.1)

    assert status_of(sent) is None
    assert names(events) == ["started", "finished"]
    if stack.__class__.__name__ == "PooledThreadASGIHandler":
        (thread,) = threads(events)
        assert thread.startswith("django-request")


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
async def test_a_streamed_response_sends_both_signals_after_its_last_chunk(stack, events):
    sent = await serve(stack, "/static/css/site.css")

    assert status_of(sent) == 200
    assert sent[-1] == {"type": "http.response.body"}  # the end of a streamed body
    assert names(events) == ["started", "finished"]


async def test_a_request_django_cannot_decode_sends_both_signals(stack, events):
    sent = await serve(stack, "/demo/async/hello/", query_string=b"name=\xff")

    assert status_of(sent) == 400
    assert names(events) == ["started", "finished"]


async def test_held_back_receivers_still_run_when_the_handler_fails_before_any_sync_call(
    async_native, monkeypatch
):
    seen: list[str] = []

    def tidy(**kwargs) -> None:  # counted among Django's tidying receivers, so it is held back
        seen.append(threading.current_thread().name)

    monkeypatch.setattr("async_native.handler.THREAD_TIDYING_RECEIVERS", (*THREAD_TIDYING_RECEIVERS, tidy))

    async def receive() -> dict:  # a second http.request, where only a disconnect may come
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    signals.request_started.connect(tidy)
    try:
        with pytest.raises(AssertionError, match="Invalid ASGI message"):
            await async_native(scope=http_scope("/demo/async/hello/"), receive=receive, send=send)
    finally:
        signals.request_started.disconnect(tidy)

    # The receivers were handed to the request's thread on their own as the handler gave up.
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.05)
    (thread,) = seen
    assert thread.startswith("django-request")


async def test_a_request_started_receiver_that_raises_fails_the_request(stack):
    def broken(**kwargs) -> None:
        raise RuntimeError("broken receiver")

    signals.request_started.connect(broken)
    try:
        with pytest.raises(RuntimeError, match="broken receiver") as failure:
            await serve(stack, "/demo/async/hello/")
    finally:
        signals.request_started.disconnect(broken)
    # Django's handle() leaves the request body's temporary file to the garbage collector on this path;
    # the error's traceback holds it, and so do the loop's last callbacks until they have run.
    del failure
    await asyncio.sleep(0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


async def test_request_started_receivers_see_the_requests_scope_and_script_prefix(stack):
    seen: list[tuple[str, str]] = []

    def record(scope, **kwargs) -> None:
        seen.append((scope["path"], get_script_prefix()))

    signals.request_started.connect(record)
    try:
        for path in ["/mounted/demo/async/hello/", "/mounted/demo/sync/hello/"]:
            assert status_of(await serve(stack, path, root_path="/mounted")) == 200
    finally:
        signals.request_started.disconnect(record)

    assert seen == [("/mounted/demo/async/hello/", "/mounted/"), ("/mounted/demo/sync/hello/", "/mounted/")]


async def test_a_request_started_receiver_runs_before_the_view_answers(stack):
    # An error-reporting or APM library's receiver: it must see the request begin, as on Django's.
    order: list[str] = []

    def library_receiver(**kwargs) -> None:
        order.append("request_started")

    async def receive() -> dict:
        if "request" not in order:
            order.append("request")
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # connected until Django stops listening
        return {}

    async def send(message: dict) -> None:
        order.append(message["type"])

    signals.request_started.connect(library_receiver)
    try:
        async with asyncio.timeout(10):
            await stack(scope=http_scope("/demo/async/hello/"), receive=receive, send=send)
    finally:
        signals.request_started.disconnect(library_receiver)

    assert order == ["request", "request_started", "http.response.start", "http.response.body"]


@pytest.mark.parametrize("signal", [signals.request_started, signals.request_finished])
async def test_a_receiver_connected_for_djangos_asgi_handler_hears_the_signal(stack, signal):
    heard: list[type] = []

    def receiver(sender, **kwargs) -> None:
        heard.append(sender)

    signal.connect(receiver, sender=ASGIHandler)
    try:
        assert status_of(await serve(stack, "/demo/async/hello/")) == 200
    finally:
        signal.disconnect(receiver, sender=ASGIHandler)

    assert heard == [ASGIHandler]


@pytest.mark.parametrize("signal", [signals.request_started, signals.request_finished])
@pytest.mark.parametrize("handler_class", [ASGIHandler, PooledThreadASGIHandler])
async def test_a_subclass_of_the_handler_sends_its_own_class(handler_class, signal):
    # As Django's handler sends self.__class__: Django's own tests subclass the handler and expect it.
    class Subclass(handler_class):
        pass

    heard: list[type] = []

    def receiver(sender, **kwargs) -> None:
        heard.append(sender)

    signal.connect(receiver)
    try:
        assert status_of(await serve(Subclass(), "/demo/async/hello/")) == 200
    finally:
        signal.disconnect(receiver)

    assert heard == [Subclass]

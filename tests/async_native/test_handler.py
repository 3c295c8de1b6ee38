"""The async-native ASGI handler: the request's thread comes from a pool, all of a request's sync
code runs on it, and a `hello` costs no hop (async_native/handler.py). What the request signals'
receivers see is in test_request_signals.py.

The handlers are called in process with a hand-made HTTP scope, on the test's event loop."""

import ast
import inspect
import textwrap
import threading

import pytest
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections

from async_native.handler import PooledThreadASGIHandler
from async_native.request_threads import RequestThreadPool
from tests.async_native.asgi_calls import json_body, serve, status_of


async def test_hello_with_the_full_middleware_makes_no_hop(async_native, hops):
    sent = await serve(async_native, "/demo/async/hello/")

    assert status_of(sent) == 200
    # Nothing used the request's thread, and Django's receivers of the request signals would only
    # tidy it: the final response.close() hop is skipped too.
    assert hops == []


async def test_a_receiver_of_request_finished_brings_the_close_hop_back(async_native, hops):
    finished: list[str] = []

    def record(**kwargs) -> None:
        finished.append(threading.current_thread().name)

    signals.request_finished.connect(record)
    try:
        sent = await serve(async_native, "/demo/async/hello/")
    finally:
        signals.request_finished.disconnect(record)

    assert status_of(sent) == 200
    # request_started's sync receivers ride along with the close.
    assert hops == ["sync_to_async('HttpResponseBase.close')"]
    [thread] = finished
    assert thread.startswith("django-request")


@pytest.mark.django_db(transaction=True)
async def test_a_request_that_used_its_thread_closes_in_a_hop(async_native, hops, asgi_connection_policy):
    sent = await serve(async_native, "/demo/async/db/")

    assert status_of(sent) == 200
    # The async ORM ran on the request's thread: its connection is closed there, by request_finished.
    assert hops[-1] == "sync_to_async('HttpResponseBase.close')"


async def test_a_def_view_makes_two_hops_its_own_and_the_close(async_native, hops):
    sent = await serve(async_native, "/demo/sync/hello/")

    assert status_of(sent) == 200
    # request_started's sync receivers ride along with the view's hop.
    assert hops == ["sync_to_async('sync_hello')", "sync_to_async('HttpResponseBase.close')"]


async def test_a_subclass_that_skips_init_serves_like_djangos_static_files_handler():
    # Django's ASGIStaticFilesHandler(StaticFilesHandlerMixin, ASGIHandler) never calls
    # ASGIHandler.__init__; built on the pooled handler (as make test-django builds it), it must work.
    class SkipsInit(PooledThreadASGIHandler):
        def __init__(self) -> None:
            self.handler = ASGIHandler()

    handler = SkipsInit()
    handler.load_middleware(is_async=True)

    sent = await serve(handler, "/demo/sync/hello/")

    assert status_of(sent) == 200


async def test_the_stock_stack_hops_for_each_middleware_hook(stock, hops):
    sent = await serve(stock, "/demo/async/hello/")

    assert status_of(sent) == 200
    assert len(hops) > 2 * 6, hops  # Session, Common, CSRF, Auth, Messages, XFrame: request and response


async def test_no_thread_is_started_per_request_after_the_first(async_native, threads_started):
    # A def view needs the request's thread (an async hello, which needs none, starts no thread).
    await serve(async_native, "/demo/sync/hello/")
    warm = len(threads_started)

    for _ in range(20):
        assert status_of(await serve(async_native, "/demo/sync/hello/")) == 200

    assert warm == 1
    assert len(threads_started) == warm


async def test_an_async_view_that_needs_no_thread_starts_none(async_native, threads_started):
    for _ in range(5):
        assert status_of(await serve(async_native, "/demo/async/hello/")) == 200

    assert threads_started == []


async def test_the_stock_handler_starts_two_threads_per_request(stock, threads_started):
    await serve(stock, "/demo/async/hello/")
    before = len(threads_started)

    for _ in range(5):
        await serve(stock, "/demo/async/hello/")

    assert len(threads_started) - before == 2 * 5


async def test_all_sync_code_of_a_request_runs_on_its_one_thread(async_native):
    seen: list[str] = []

    def record(**kwargs) -> None:
        seen.append(threading.current_thread().name)

    signals.request_started.connect(record)
    signals.request_finished.connect(record)
    try:
        sent = await serve(async_native, "/demo/sync/hello/")
    finally:
        signals.request_started.disconnect(record)
        signals.request_finished.disconnect(record)

    view_thread = json_body(sent)["thread"]
    assert view_thread.startswith("django-request")
    assert seen == [view_thread, view_thread]


async def test_a_client_that_disconnects_frees_its_thread_for_the_next_request(async_native, threads_started):
    await serve(async_native, "/demo/sync/hello/")
    warm = len(threads_started)

    sent = await serve(async_native, "/demo/async/sleep/", "ms=5000", disconnect_after=0.1)
    after = await serve(async_native, "/demo/sync/hello/")

    assert status_of(sent) is None  # cancelled before it answered, well before the 5 s wait ended
    assert status_of(after) == 200
    assert len(threads_started) == warm
    assert async_native.threads.idle_count() == 1


async def test_a_request_cancelled_in_a_sync_view_gives_its_thread_back_once_the_view_ends(async_native):
    sent = await serve(async_native, "/demo/sync/sleep/", "ms=300", disconnect_after=0.05)

    assert status_of(sent) is None
    # sync_to_async waited for the view's thread before letting the cancellation through.
    assert async_native.threads.idle_count() == 1


# The pool on its own ------------------------------------------------------------------------------


def test_a_thread_that_finished_its_work_is_lent_again():
    pool = RequestThreadPool()
    executor = pool.lease()
    executor.submit(lambda: None).result(timeout=5)

    pool.give_back(executor)

    assert pool.lease() is executor


def test_a_thread_still_running_work_is_never_lent_again():
    pool = RequestThreadPool()
    executor = pool.lease()
    started, release = threading.Event(), threading.Event()
    executor.submit(lambda: (started.set(), release.wait(5)))
    started.wait(5)

    pool.give_back(executor)

    assert pool.idle_count() == 0
    assert pool.lease() is not executor
    release.set()


def test_two_requests_at_once_never_share_a_thread():
    pool = RequestThreadPool()

    assert pool.lease() is not pool.lease()


def test_the_pool_keeps_at_most_its_bound_of_idle_threads():
    pool = RequestThreadPool(max_idle=2)
    leased = [pool.lease() for _ in range(3)]

    for executor in leased:
        pool.give_back(executor)

    assert pool.idle_count() == 2


# What the handler relies on ----------------------------------------------------------------------

# Django's ASGIHandler.__call__ as of the pinned Django; PooledThreadASGIHandler.__call__ repeats it
# with its own executor. When an upgrade changes it, this fails: port the change, then update this.
DJANGO_ASGI_CALL = '''
async def __call__(self, scope, receive, send):
    """
    Async entrypoint - parses the request and hands off to get_response.
    """
    # Serve only HTTP connections.
    # FIXME: Allow to override this.
    if scope["type"] != "http":
        raise ValueError(
            "Django can only handle ASGI/HTTP connections, not %s." % scope["type"]
        )

    async with ThreadSensitiveContext():
        await self.handle(scope, receive, send)
'''


def test_djangos_asgi_entry_point_is_the_one_the_pooled_handler_repeats():
    assert textwrap.dedent(inspect.getsource(ASGIHandler.__call__)).strip() == DJANGO_ASGI_CALL.strip()


def test_asgiref_accepts_an_executor_for_the_thread_sensitive_context():
    from asgiref.sync import ThreadSensitiveContext

    assert "executor" in inspect.signature(ThreadSensitiveContext).parameters


def function_code(function) -> str:
    """The code of `function` without its docstring, comments, type hints or layout."""
    definition = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    assert isinstance(definition, ast.AsyncFunctionDef)
    if ast.get_docstring(definition) is not None:
        definition.body = definition.body[1:]
    for node in ast.walk(definition):
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            node.returns = None
            for argument in node.args.args:
                argument.annotation = None
    return ast.unparse(definition)


def test_the_pooled_handlers_handle_is_djangos_with_its_four_changes():
    # When an upgrade changes Django's handle(), this fails: port the change, then check the lines.
    djangos = function_code(ASGIHandler.handle)
    sent_by_django = "await signals.request_started.asend(sender=self.__class__, scope=scope)"
    dispatched_by_django = "response = await self.run_get_response(request)"
    closed_by_django = "await sync_to_async(response.close)()"
    finished_by_django = "await signals.request_finished.asend(sender=self.__class__)"
    for line in (sent_by_django, dispatched_by_django, closed_by_django, finished_by_django):
        assert djangos.count(line) == 1, line

    assert function_code(PooledThreadASGIHandler.handle) == (
        djangos.replace(sent_by_django, "await self.send_request_started(scope)")
        .replace(
            dispatched_by_django,
            f"await self.dispatch_unless_gone(tasks[0])\n        {dispatched_by_django}",
        )
        .replace(closed_by_django, "await self.close_response(response)")
        .replace(finished_by_django, "await signals.request_finished.asend(sender=self.signal_sender)")
    )


def test_django_splits_a_signals_receivers_into_sync_and_async_ones():
    sync_receivers, async_receivers = signals.request_started._live_receivers(ASGIHandler)

    assert close_old_connections in sync_receivers
    assert async_receivers == []

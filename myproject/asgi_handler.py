"""Django's ASGI handler, with the request's thread taken from a pool instead of made and joined,
and the request signals' sync receivers sent in one hop instead of two.

Under ASGI, Django runs a request's sync code (signal receivers, sync middleware and views, the
final `response.close()`) through `sync_to_async(thread_sensitive=True)`, and asgiref guarantees
that all of it runs on *one* thread, one call at a time: sync code written for WSGI may keep state
in that thread (a database connection, a `threading.local`). Django's ASGIHandler gets that thread
from `ThreadSensitiveContext()`: asgiref 3.x makes a fresh single-thread executor on the request's
first sync call, and when the request ends joins it from another new thread, so that the event loop
does not block. Two OS threads are started and torn down per request, whatever the view does.

`PooledThreadASGIHandler` hands `ThreadSensitiveContext` an executor of its own, leased from
`RequestThreadPool` for the request and given back afterwards: same guarantee, no thread churn.

It also saves a hop. Django sends `request_started` through `Signal.asend()`, a hop of its own
whose sync receivers (resetting the query log, closing stale database connections) only tidy the
request's thread, and `request_finished` from `response.close()`, a second hop. Here the first
one's receivers are held back by the request's executor and run just ahead of the request's first
call on that thread, in the same hand-off: a sync view or middleware hook, an ORM query from an
async view, or at the latest `response.close()`, which sends request_finished.

And that last hop is skipped when it would do nothing. Django's own receivers of the two signals
(resetting the query log and the URLconf, closing stale database connections and caches) only tidy
what the request left on its thread, so for a request that never used its thread, and a response
with no file or iterator to close, they have nothing to tidy: a later request that does use the
thread runs request_started's receivers before anything else there. An async view such as `hello`
then costs no hop at all. Any other receiver (a library's, a test's) keeps the hop, and the signals.

What a reader must know before doing the same (docs/asgi-tax.md, "Reusing the request's thread"
and "The request signals, only when they have work"):

- Thread-locals outlive the request. A thread now serves many requests one after another, as a
  WSGI worker thread does: a library that keeps per-request state in a plain `threading.local`
  and never clears it shows it to the next request on that thread. Django's own per-request state
  (URLconf, language, time zone, script prefix) lives in contextvars and is set afresh each request;
  database connections are thread-bound and are closed at the end of each request under ASGI
  (CONN_MAX_AGE = 0 in settings) by Django's `request_finished` receiver, on this very thread.
- A thread is never lent while it still runs work of an earlier request. A request whose task is
  cancelled (twice: asgiref's sync_to_async waits for its thread after the first) can leave its
  sync call running; that executor is retired, not pooled.
- `request_started`'s sync receivers still all run, in order, on the request's thread and before
  any other code of the request there, but no longer before the async middleware and view on the
  loop. One that raises fails the request at its first sync call (a 500) or, for a request with
  none, at its end, after the response went out. Changes they make to contextvars stay with them.
- request_finished is not sent for a request that skips the last hop, so a receiver connected to
  it that is not one of Django's own is what brings the signal, and the hop, back: the check runs
  per request, on the receivers connected at that moment.
- It leans on four APIs: `ThreadSensitiveContext(executor=...)` (public in asgiref 3.13), and
  Django's `ASGIHandler.handle()`, `Signal._live_receivers()` and
  `HttpResponseBase._resource_closers`. requirements.txt pins asgiref and Django, and
  tests/myproject/test_asgi_handler.py fails when Django's `ASGIHandler.__call__` or `handle()`,
  which this class repeats, changes: re-read them after an upgrade and port the change before
  updating the test.
"""

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, reset_queries
from django.http import HttpRequest, HttpResponseBase
from django.urls import set_script_prefix

P = ParamSpec("P")
T = TypeVar("T")

# Threads kept for reuse. A worker needs one per request in flight; past this many at once (a burst
# of slow requests) it starts threads for the excess, as asgiref would, and retires them afterwards.
# 256 covers the project's benchmarks (200 concurrent slow requests on one worker); an idle thread
# costs little more than its stack.
MAX_IDLE_REQUEST_THREADS = 256


class RequestThread(ThreadPoolExecutor):
    """A single-thread executor that knows whether it still has work in hand, and can hold one piece
    of work back to run in the same hand-off as the next call (`run_ahead_of_next_call`).

    ThreadPoolExecutor starts its thread on the first `submit()` and keeps it until `shutdown()`.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="django-request")
        self._unfinished = 0
        self._held_back: Callable[[], object] | None = None
        self._lock = threading.Lock()

    def run_ahead_of_next_call(self, work: Callable[[], object]) -> None:
        with self._lock:
            self._held_back = work

    def run_held_back_work(self) -> None:
        """Submit the held-back work on its own, if no call came to take it along."""
        work = self.take_held_back_work()
        if work is not None:
            self.submit(work)

    def take_held_back_work(self) -> Callable[[], object] | None:
        """The held-back work, which no call has taken along yet, or None; it is held back no more."""
        with self._lock:
            work, self._held_back = self._held_back, None
        return work

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            self._unfinished += 1
            held_back, self._held_back = self._held_back, None
        call = fn if held_back is None else first_then(held_back, fn)
        try:
            future = super().submit(call, *args, **kwargs)
        except BaseException:
            self._finished()
            raise
        # Added before asyncio's own callback, so the count drops before the loop hears of the result.
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: object = None) -> None:
        with self._lock:
            self._unfinished -= 1

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._unfinished == 0


def first_then(first: Callable[[], object], fn: Callable[P, T]) -> Callable[P, T]:
    """`fn`, preceded by `first` on the same thread; if `first` raises, `fn` does not run and its
    caller gets the error."""

    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        first()
        return fn(*args, **kwargs)

    return call


class RequestThreadPool:
    """Lends each request a `RequestThread`, and keeps up to `max_idle` of them for reuse.

    Lease and give-back happen on an event loop's thread. A server may run several loops in one
    process, on threads of its own, so both rest on single list operations, atomic in CPython: the
    worst a race does is keep one thread more than `max_idle`.
    """

    def __init__(self, max_idle: int = MAX_IDLE_REQUEST_THREADS) -> None:
        self.max_idle = max_idle
        self._idle: list[RequestThread] = []

    def lease(self) -> RequestThread:
        # Last in, first out: the thread that just served a request is warm in the CPU's caches.
        try:
            return self._idle.pop()
        except IndexError:
            return RequestThread()

    def give_back(self, executor: RequestThread) -> None:
        if executor.idle and len(self._idle) < self.max_idle:
            self._idle.append(executor)
        else:
            # Still busy (its request was cancelled mid-call) or one too many: the thread exits once
            # its queue is empty. No join: nothing waits on it, and the event loop must not block.
            executor.shutdown(wait=False)

    def idle_count(self) -> int:
        return len(self._idle)


# The request's RequestThread, for `handle()`, whose signature is Django's and takes no executor.
current_request_thread: contextvars.ContextVar[RequestThread] = contextvars.ContextVar(
    "current_request_thread"
)


# Django's receivers of request_started and request_finished. Each only tidies what a request left
# on its thread (the query log, the URLconf, database connections, cache connections), so for a
# request that never used its thread they have nothing to do.
THREAD_TIDYING_RECEIVERS = (reset_queries, close_old_connections, close_caches, reset_urlconf)


def only_thread_tidying_receivers(sender: type) -> bool:
    for signal in (signals.request_started, signals.request_finished):
        sync_receivers, async_receivers = signal._live_receivers(sender)
        if async_receivers or any(receiver not in THREAD_TIDYING_RECEIVERS for receiver in sync_receivers):
            return False
    return True


def closes_a_request_without_files(closer: Callable[[], object]) -> bool:
    """Whether `closer` (one of a response's `_resource_closers`) is the `close()` of its request and
    the request holds no uploaded file: then it only closes the request's body, in memory."""
    request = getattr(closer, "__self__", None)
    return (
        isinstance(request, HttpRequest)
        and getattr(closer, "__name__", None) == "close"
        and not hasattr(request, "_files")
    )


class PooledThreadASGIHandler(ASGIHandler):
    """ASGIHandler whose requests borrow their thread from a pool and send `request_started`'s sync
    receivers in the same hop as the request's first sync call (see the module docstring)."""

    def __init__(self, pool: RequestThreadPool | None = None) -> None:
        super().__init__()
        self.threads = pool or RequestThreadPool()

    # django-stubs type Django's __call__ with a plain dict scope; this one takes asgiref's Scope.
    async def __call__(  # type: ignore[override]
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        # Django's own __call__, with one change: the executor handed to ThreadSensitiveContext,
        # which handle() finds in current_request_thread.
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.lease()
        leased = current_request_thread.set(executor)
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            # Only a request that ended in an exception, before any sync call, leaves work held back.
            executor.run_held_back_work()
            current_request_thread.reset(leased)
            self.threads.give_back(executor)

    async def send_request_started(self, scope: Scope) -> None:
        """request_started, as Django's `asend` sends it, except that the sync receivers are held back
        to ride along with the request's first call on its thread, instead of a hop of their own.

        At the latest, that call is the request's last: `response.close()`, which sends
        request_finished, or request_finished itself when the client went away. Async receivers are
        awaited here, on the loop, as Django does.
        """
        signal, sender = signals.request_started, self.__class__
        # Django's own split of the receivers (what Signal.asend and Signal.send use).
        sync_receivers, async_receivers = signal._live_receivers(sender)
        if sync_receivers:
            request_thread = current_request_thread.get(None)
            if request_thread is None:  # handle() called without __call__: no executor to hold them
                await signal.asend(sender=sender, scope=scope)
                return
            context = contextvars.copy_context()

            def send_to_sync_receivers() -> None:
                # asgiref keeps a Local's value to the thread that set it, so set the prefix here too.
                set_script_prefix(get_script_prefix(scope))
                for receiver in sync_receivers:
                    receiver(signal=signal, sender=sender, scope=scope)

            request_thread.run_ahead_of_next_call(functools.partial(context.run, send_to_sync_receivers))
        await asyncio.gather(
            *(receiver(signal=signal, sender=sender, scope=scope) for receiver in async_receivers)
        )

    async def close_response(self, response: HttpResponseBase) -> None:
        """`response.close()`, in a hop to the request's thread as Django makes it, unless the hop
        would do nothing: the request never used its thread (request_started's receivers are still
        held back), the response has nothing to close but the request's in-memory body, and the only
        receivers of the request signals are Django's thread-tidying ones. Then request_finished is
        not sent."""
        request_thread = current_request_thread.get(None)
        # What close() will call besides the signal (django-stubs leave this private list out).
        closers: list[Callable[[], object]] = response._resource_closers  # type: ignore[attr-defined]
        if (
            request_thread is not None
            and all(closes_a_request_without_files(closer) for closer in closers)
            and only_thread_tidying_receivers(self.__class__)
            and request_thread.take_held_back_work() is not None
        ):
            # What response.close() does, but the signal: the request's close() closes its body,
            # as handle() closes body_file on the loop.
            for closer in closers:
                closer()
            closers.clear()
            response.closed = True
            return
        await sync_to_async(response.close)()

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        # Django's ASGIHandler.handle, with two changes, marked: request_started is sent by
        # send_request_started(), and the response closed by close_response().
        # tests/myproject/test_asgi_handler.py compares the two, so the code stays as Django writes
        # it (SIM105).
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        await self.send_request_started(scope)  # the first change
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            # django-stubs cannot tell that create_request() returns a request or an error response.
            await self.send_response(error_response, send)  # type: ignore[arg-type]
            await sync_to_async(error_response.close)()  # type: ignore[union-attr]
            return

        async def process_request(request: Any, send: Any) -> Any:
            response = await self.run_get_response(request)
            try:  # noqa: SIM105
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass
            return response

        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:  # noqa: SIM105
                    await task
                except asyncio.CancelledError:
                    pass

        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            await self.close_response(response)  # the second change

        body_file.close()


def asgi_http_application(stock: ASGIHandler) -> ASGIHandler:
    """The HTTP handler of the stack that settings.ASGI_STACK (DJANGO_ASGI_STACK) names: Django's
    own `stock` handler, or the pooled one, whose middleware list settings already chose."""
    if settings.ASGI_STACK == "stock":
        return stock
    return PooledThreadASGIHandler()

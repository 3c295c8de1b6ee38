"""Django's ASGI handler, with the request's thread taken from a pool instead of made and joined.

Under ASGI, Django runs a request's sync code (signal receivers, sync middleware and views, the
final `response.close()`) through `sync_to_async(thread_sensitive=True)`, and asgiref guarantees
that all of it runs on *one* thread, one call at a time: sync code written for WSGI may keep state
in that thread (a database connection, a `threading.local`). Django's ASGIHandler gets that thread
from `ThreadSensitiveContext()`: asgiref 3.x makes a fresh single-thread executor on the request's
first sync call, and when the request ends joins it from another new thread, so that the event loop
does not block. Two OS threads are started and torn down per request, whatever the view does.

`PooledThreadASGIHandler` hands `ThreadSensitiveContext` an executor of its own, leased from
`RequestThreadPool` for the request and given back afterwards: same guarantee, no thread churn.

What a reader must know before doing the same (docs/asgi-tax.md, "Reusing the request's thread"):

- Thread-locals outlive the request. A thread now serves many requests one after another, as a
  WSGI worker thread does: a library that keeps per-request state in a plain `threading.local`
  and never clears it shows it to the next request on that thread. Django's own per-request state
  (URLconf, language, time zone, script prefix) lives in contextvars and is set afresh each request;
  database connections are thread-bound and are closed at the end of each request under ASGI
  (CONN_MAX_AGE = 0 in settings) by Django's `request_finished` receiver, on this very thread.
- A thread is never lent while it still runs work of an earlier request. A request whose task is
  cancelled (twice: asgiref's sync_to_async waits for its thread after the first) can leave its
  sync call running; that executor is retired, not pooled.
- It leans on two APIs: `ThreadSensitiveContext(executor=...)` (public in asgiref 3.13) and
  `ASGIHandler.handle()` (Django's). requirements.txt pins asgiref and Django, and
  tests/myproject/test_asgi_handler.py fails when Django's `ASGIHandler.__call__`, which this class
  replaces, changes: re-read it after an upgrade before updating the test.
"""

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from asgiref.sync import ThreadSensitiveContext
from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

P = ParamSpec("P")
T = TypeVar("T")

# Threads kept for reuse. A worker needs one per request in flight; past this many at once (a burst
# of slow requests) it starts threads for the excess, as asgiref would, and retires them afterwards.
# 256 covers the project's benchmarks (200 concurrent slow requests on one worker); an idle thread
# costs little more than its stack.
MAX_IDLE_REQUEST_THREADS = 256


class RequestThread(ThreadPoolExecutor):
    """A single-thread executor that knows whether it still has work in hand.

    ThreadPoolExecutor starts its thread on the first `submit()` and keeps it until `shutdown()`.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="django-request")
        self._unfinished = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            self._unfinished += 1
        try:
            future = super().submit(fn, *args, **kwargs)
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


class PooledThreadASGIHandler(ASGIHandler):
    """ASGIHandler whose requests borrow their thread from a pool (see the module docstring)."""

    def __init__(self, pool: RequestThreadPool | None = None) -> None:
        super().__init__()
        self.threads = pool or RequestThreadPool()

    # django-stubs type Django's __call__ with a plain dict scope; this one takes asgiref's Scope.
    async def __call__(  # type: ignore[override]
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        # Django's own __call__, with one change: the executor handed to ThreadSensitiveContext.
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.lease()
        try:
            async with ThreadSensitiveContext(executor=executor):
                # django-stubs type handle() with a plain dict scope and Mapping events; asgiref's
                # TypedDicts describe the same objects more precisely.
                await self.handle(scope, receive, send)  # type: ignore[arg-type]
        finally:
            self.threads.give_back(executor)


def asgi_http_application(stock: ASGIHandler) -> ASGIHandler:
    """The HTTP handler of the stack that settings.ASGI_STACK (DJANGO_ASGI_STACK) names: Django's
    own `stock` handler, or the pooled one, whose middleware list settings already chose."""
    if settings.ASGI_STACK == "stock":
        return stock
    return PooledThreadASGIHandler()

"""The request's thread, leased from a pool instead of started and joined per request.

Django runs a request's sync code through `sync_to_async(thread_sensitive=True)`, all of it on one
thread that asgiref makes afresh per request (`ThreadSensitiveContext`) and joins afterwards: two OS
threads started and torn down per request, whatever the view does. The handler
(async_native/handler.py) hands `ThreadSensitiveContext` one of these executors instead: the same
guarantee (one thread, one call at a time, for the request), no thread churn.
"""

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

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

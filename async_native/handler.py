"""Django's ASGIHandler, with the request's thread leased from a pool, the request signals' thread
hops made only when they have work, and the package's middleware loaded in place of Django's.

Each difference from Django's handler, and why (the package docstring says what to know first):

- The request's thread comes from `RequestThreadPool` (async_native/request_threads.py) instead of
  a new single-thread executor per request.
- When the only receivers of `request_started` and `request_finished` are Django's own, which tidy
  what a request left on its thread (the query log, the URLconf, database and cache connections),
  request_started's receivers are held back to run just ahead of the request's first call on its
  thread, in the same hop, and for a request that never used its thread (an async view such as
  `hello`) the final `response.close()` hop is skipped with request_finished. Any other receiver,
  sync or async, a library's or the project's, brings Django's timing back: request_started before
  any middleware or view code, request_finished from `response.close()` on the request's thread.
- Both signals are sent with `sender=ASGIHandler`, as Django's handler sends them, so a receiver
  connected for Django's handler hears them here too (a subclass sends its own class, as a
  subclass of Django's does).
- A client already gone when the request is dispatched gets no view (`dispatch_unless_gone`).
- `load_middleware()` loads the package's class for each Django class in REPLACEMENTS, and a hook
  that has an async twin (the CSRF check's `aprocess_view`) as that twin.
- It refuses to start on a Django feature release it was not ported to, and warns about a
  middleware that is not async-capable (async_native/checks.py).

tests/async_native/test_handler.py fails when Django's `ASGIHandler.__call__` or `handle()`, which
this class repeats, changes: re-read them after an upgrade and port the change before updating it.
"""

import asyncio
import contextvars
import functools
from collections.abc import Callable
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, reset_queries
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponseBase
from django.urls import set_script_prefix

from async_native import middleware_in_place_of
from async_native.checks import refuse_unported_django, warn_about_sync_only_middleware
from async_native.request_threads import RequestThread, RequestThreadPool

# The request's RequestThread, for `handle()`, whose signature is Django's and takes no executor.
current_request_thread: contextvars.ContextVar[RequestThread] = contextvars.ContextVar(
    "current_request_thread"
)


# Django's receivers of request_started and request_finished. Each only tidies what a request left
# on its thread (the query log, the URLconf, database connections, cache connections), so for a
# request that never used its thread they have nothing to do.
THREAD_TIDYING_RECEIVERS = (reset_queries, close_old_connections, close_caches, reset_urlconf)


def only_thread_tidying_receivers(sender: type, *signals_sent: Signal) -> bool:
    for signal in signals_sent:
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
    """ASGIHandler whose requests borrow their thread from a pool and make the request signals' hops
    only when they have work (see the module docstring)."""

    # Set by __init__; a subclass that skips its parents' __init__, as Django's
    # ASGIStaticFilesHandler does, gets a pool of its own on first use instead of an AttributeError.
    _threads: RequestThreadPool | None = None

    def __init__(self, pool: RequestThreadPool | None = None) -> None:
        refuse_unported_django()
        super().__init__()
        self._threads = pool or RequestThreadPool()

    @property
    def signal_sender(self) -> type:
        """The `sender` of the request signals. Django's handler sends `self.__class__`; this one
        stands in for Django's, so it sends `ASGIHandler` and a receiver connected for Django's
        handler hears it. A subclass of it (as of Django's) sends its own class, as Django's does."""
        return ASGIHandler if type(self) is PooledThreadASGIHandler else type(self)

    @property
    def threads(self) -> RequestThreadPool:
        if self._threads is None:
            self._threads = RequestThreadPool()
        return self._threads

    def load_middleware(self, is_async: bool = False) -> None:
        """Django's, on the middleware list with the package's classes in place of Django's.

        settings.MIDDLEWARE keeps naming Django's classes, so that Django's system checks (`check
        --deploy` looks for SecurityMiddleware, CsrfViewMiddleware... by name) and any other code
        that reads the setting see what they expect; the list is swapped only while Django's
        loader reads it, once, at start-up.
        """
        configured = settings.MIDDLEWARE
        settings.MIDDLEWARE = middleware_in_place_of(configured)
        warn_about_sync_only_middleware(settings.MIDDLEWARE)
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = configured

    # django-stubs leave adapt_method_mode's parameters untyped.
    def adapt_method_mode(self, is_async: bool, method: Any, *args: Any, **kwargs: Any) -> Any:
        # A hook with an async twin (async_native.middleware.CsrfViewMiddleware.aprocess_view) is
        # called as the twin: Django would wrap the sync hook in a thread hop on every request.
        twin = getattr(getattr(method, "__self__", None), "async_twin_of", lambda method: None)(method)
        if is_async and twin is not None:
            return twin
        return super().adapt_method_mode(is_async, method, *args, **kwargs)

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
        """request_started, as Django's `asend` sends it, unless its only receivers are Django's
        thread-tidying ones: those are held back to ride along with the request's first call on its
        thread, instead of a hop of their own.

        At the latest, that call is the request's last: `response.close()`, which sends
        request_finished, or request_finished itself when the client went away.
        """
        signal = signals.request_started
        request_thread = current_request_thread.get(None)
        if request_thread is None or not only_thread_tidying_receivers(self.signal_sender, signal):
            await signal.asend(sender=self.signal_sender, scope=scope)
            return
        sync_receivers, _ = signal._live_receivers(self.signal_sender)
        context = contextvars.copy_context()

        def send_to_sync_receivers() -> None:
            # asgiref keeps a Local's value to the thread that set it, so set the prefix here too.
            set_script_prefix(get_script_prefix(scope))
            for receiver in sync_receivers:
                receiver(signal=signal, sender=self.signal_sender, scope=scope)

        request_thread.run_ahead_of_next_call(functools.partial(context.run, send_to_sync_receivers))

    async def run_get_response(self, request: Any) -> Any:
        response = await super().run_get_response(request)
        # request_finished, sent by response.close(), names the handler Django's does (a private
        # attribute, which django-stubs leave out).
        response._handler_class = self.signal_sender  # type: ignore[attr-defined]
        return response

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
            and only_thread_tidying_receivers(
                self.signal_sender, signals.request_started, signals.request_finished
            )
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

    @staticmethod
    async def dispatch_unless_gone(listener: "asyncio.Task[None]") -> None:
        """Returns at once, unless the client is already gone: then waits for handle() to cancel
        this task, so that no middleware or view code starts for nobody.

        The disconnect listener was started first and has had its turn of the loop, so a disconnect
        that the server had already seen (Uvicorn and Daphne answer `receive()` at once then) has
        ended it. Django's stack notices such a client only when handle() cancels the task, in
        whatever hop its middleware is making (and not at all in WhiteNoise's, which runs the rest
        of the chain on a task of its own); this one's middleware may run on the loop without a
        pause, hence the look.
        """
        if listener.done():
            await asyncio.get_running_loop().create_future()

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        # Django's ASGIHandler.handle, with four changes, marked: request_started is sent by
        # send_request_started(), the request is dispatched only if its client is still there, the
        # response is closed by close_response(), and the signals name Django's handler.
        # tests/async_native/test_handler.py compares the two, so the code stays as Django writes
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
            await self.dispatch_unless_gone(tasks[0])  # the second change
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
            await signals.request_finished.asend(sender=self.signal_sender)  # the fourth change
        else:
            await self.close_response(response)  # the third change

        body_file.close()

"""The project's middleware: the X-Interface header, and Django's built-in middleware made
async-native for the ASGI stack (settings.ASYNC_NATIVE_MIDDLEWARE; docs/asgi-tax.md).

Django's built-ins are `MiddlewareMixin` classes. Under ASGI, the mixin sends every
`process_request` and `process_response` through `sync_to_async`: a hand-off to a thread and back,
some 40 to 55 µs of CPU each (docs/asgi-tax.md), to run a few lines that set a header or read a
cookie. The subclasses below keep Django's hooks, unchanged, and only change where they run: on the
event loop, unless this very request needs the thread (a session or messages to save, a form body
to read for the CSRF check). Under WSGI they behave exactly like their parents, because the mixin's
sync path is untouched.
"""

from collections.abc import Awaitable, Callable
from typing import Any, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponseBase
from django.middleware import clickjacking, common, csrf, security
from django.utils.deprecation import MiddlewareMixin

from myproject.serving import interface_of

AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]
SyncGetResponse = Callable[[HttpRequest], HttpResponseBase]

# RFC 9110's safe methods: Django's CSRF check accepts them without looking at the body.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class InterfaceHeaderMiddleware:
    """Adds `X-Interface: wsgi|asgi` to every response (see docs/protocol.md).

    It is both sync- and async-capable: Django calls it in the mode of the handler it sits in. Under
    ASGI it runs on the event loop only if the middleware next to it can too: one sync-only
    neighbour (WhiteNoise's, in the stock list) puts it on that neighbour's worker thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: SyncGetResponse | AsyncGetResponse) -> None:
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if iscoroutinefunction(self.get_response):
            return self.__acall__(request)
        response = cast(SyncGetResponse, self.get_response)(request)
        response["X-Interface"] = interface_of(request)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = await cast(AsyncGetResponse, self.get_response)(request)
        response["X-Interface"] = interface_of(request)
        return response


class HooksOnTheEventLoop(MiddlewareMixin):
    """Mixed in before a `MiddlewareMixin` class: under ASGI, its hooks run on the event loop and
    hop to the request's thread only when `request_needs_thread` / `response_needs_thread` say so.

    The hooks are Django's own; only the subclass's two small predicates are new. A predicate must
    be cheap and must not load anything: it decides *whether* loading may happen.
    """

    def request_needs_thread(self, request: HttpRequest) -> bool:
        return False

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return False

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # The same steps as MiddlewareMixin.__acall__, minus the unconditional sync_to_async.
        process_request = getattr(self, "process_request", None)
        process_response = getattr(self, "process_response", None)
        response = None
        if process_request is not None:
            if self.request_needs_thread(request):
                response = await sync_to_async(process_request)(request)
            else:
                response = process_request(request)
        response = response or await cast(AsyncGetResponse, self.get_response)(request)
        if process_response is not None:
            if self.response_needs_thread(request, response):
                response = await sync_to_async(process_response)(request, response)
            else:
                response = process_response(request, response)
        return response


class SecurityMiddleware(HooksOnTheEventLoop, security.SecurityMiddleware):
    """HTTPS redirect and security headers: nothing to wait for, never a thread."""


class CommonMiddleware(HooksOnTheEventLoop, common.CommonMiddleware):
    """User-agent check, APPEND_SLASH (a URL resolve, in memory) and Content-Length: never a thread."""


class XFrameOptionsMiddleware(HooksOnTheEventLoop, clickjacking.XFrameOptionsMiddleware):
    """One header: never a thread."""


class AuthenticationMiddleware(HooksOnTheEventLoop, auth.AuthenticationMiddleware):
    """Django's hook only installs two lazy ways to the user, so it runs on the loop. The user is
    loaded on first use: `request.user` in sync code (on the request's thread, like any ORM call),
    `await request.auser()` in async code (Django's async auth API)."""


class SessionMiddleware(HooksOnTheEventLoop, sessions.SessionMiddleware):
    """The session is loaded lazily by whoever reads it; this middleware only writes it. Django's
    `process_response` saves (a database write) exactly when the condition below holds; otherwise it
    only sets Vary or deletes a cookie, which the loop does in microseconds."""

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        session = getattr(request, "session", None)
        if session is None:
            return False
        return bool((session.modified or settings.SESSION_SAVE_EVERY_REQUEST) and not session.is_empty())


class MessageMiddleware(HooksOnTheEventLoop, messages.MessageMiddleware):
    """Messages are stored only when the request added some or read them (`update()` is a no-op
    otherwise); storing may reach the session, so only then does it hop."""

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and bool(storage.used or storage.added_new)


class CsrfViewMiddleware(HooksOnTheEventLoop, csrf.CsrfViewMiddleware):
    """The CSRF token lives in a cookie here, so reading and refreshing it is in-memory work. The
    check of an unsafe method reads the form body (which may have spooled to disk) and, on failure,
    renders the failure page: those requests hop. With CSRF_USE_SESSIONS the token lives in the
    session, which may need loading, so every hook hops."""

    def __init__(self, get_response: SyncGetResponse | AsyncGetResponse) -> None:
        super().__init__(get_response)
        if self.async_mode:
            # Django's handler wraps a sync `process_view` in sync_to_async on every request; a
            # coroutine function it calls as it is. Under WSGI the sync method stays in place. (mypy
            # forbids replacing a method on an instance, and the two differ in return type.)
            self.process_view = self.aprocess_view  # type: ignore[method-assign,assignment]

    def request_needs_thread(self, request: HttpRequest) -> bool:
        return settings.CSRF_USE_SESSIONS

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return settings.CSRF_USE_SESSIONS and bool(request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))

    async def aprocess_view(
        self,
        request: HttpRequest,
        callback: Callable[..., Any],
        callback_args: tuple[Any, ...],
        callback_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        check = super().process_view
        if request.method in SAFE_METHODS:
            return check(request, callback, callback_args, callback_kwargs)
        return await sync_to_async(check)(request, callback, callback_args, callback_kwargs)

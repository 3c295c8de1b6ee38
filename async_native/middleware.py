"""Django's built-in middleware, with each hook run on the event loop unless this very request needs
the request's thread.

Django's built-ins are `MiddlewareMixin` classes. Under ASGI, the mixin sends every
`process_request` and `process_response` through `sync_to_async`: a hand-off to a thread and back,
some 40 to 55 µs of CPU each (docs/asgi-tax.md), to run a few lines that set a header or read a
cookie. The subclasses below keep Django's hooks, unchanged, and only change where they run: on the
event loop, unless this very request needs the thread (a session or messages to save, a form body
to read for the CSRF check). Called synchronously (under WSGI, or as a view decorator through
`decorator_from_middleware`) they are their parents: the mixin's sync path is untouched.

A subclass of these that overrides a hook gets Django's behaviour for that hook: it runs on the
request's thread, as Django runs it, since this package cannot know what the override does.
"""

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponseBase
from django.middleware import clickjacking, common, csrf, security
from django.utils.deprecation import MiddlewareMixin

AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]
SyncGetResponse = Callable[[HttpRequest], HttpResponseBase]

# RFC 9110's safe methods: Django's CSRF check accepts them without looking at the body.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
HOOKS = ("process_request", "process_response", "process_view")


class HooksOnTheEventLoop(MiddlewareMixin):
    """Mixed in before a `MiddlewareMixin` class: under ASGI, its hooks run on the event loop and
    hop to the request's thread only when `request_needs_thread` / `response_needs_thread` say so.

    The hooks are Django's own; only the subclass's two small predicates are new. A predicate must
    be cheap and must not load anything: it decides *whether* loading may happen.
    """

    # The hooks this package read and vetted for the loop: those of the class that mixes this in
    # (Django's own). A hook a further subclass overrides is not among them.
    vetted_hooks: ClassVar[dict[str, object]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if HooksOnTheEventLoop in cls.__bases__:
            cls.vetted_hooks = {name: getattr(cls, name, None) for name in HOOKS}

    def __init__(self, get_response: SyncGetResponse | AsyncGetResponse) -> None:
        super().__init__(get_response)
        # Worked out once per process, as Django loads the middleware.
        self.overridden_hooks = frozenset(
            name for name in HOOKS if getattr(type(self), name, None) is not self.vetted_hooks.get(name)
        )

    def request_needs_thread(self, request: HttpRequest) -> bool:
        return False

    def response_needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return False

    def async_twin_of(self, method: Callable[..., Any]) -> Callable[..., Any] | None:
        """The coroutine function the handler may call instead of `method`, one of this object's
        hooks (async_native/handler.py), or None: a subclass's override has none."""
        name = getattr(method, "__name__", "")
        if name in self.overridden_hooks:
            return None
        return cast(Callable[..., Any] | None, getattr(self, f"a{name}", None))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # The same steps as MiddlewareMixin.__acall__, minus the unconditional sync_to_async.
        process_request = getattr(self, "process_request", None)
        process_response = getattr(self, "process_response", None)
        response = None
        if process_request is not None:
            if "process_request" in self.overridden_hooks or self.request_needs_thread(request):
                response = await sync_to_async(process_request)(request)
            else:
                response = process_request(request)
        response = response or await cast(AsyncGetResponse, self.get_response)(request)
        if process_response is not None:
            if "process_response" in self.overridden_hooks or self.response_needs_thread(request, response):
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
    session, which may need loading, so every hook hops.

    `process_view` stays Django's sync method, for every caller that calls it as Django's (a view
    decorator, Django's own handler); the package's handler calls `aprocess_view` instead."""

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
        check = self.process_view
        if request.method in SAFE_METHODS:
            return check(request, callback, callback_args, callback_kwargs)
        return await sync_to_async(check)(request, callback, callback_args, callback_kwargs)

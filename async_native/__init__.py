"""An opt-in ASGI request stack for Django that cuts the CPU Django spends per request under ASGI
handing sync code to a thread and back, with Django's behaviour kept (docs/asgi-tax.md).

Turned on by `DJANGO_ASGI_STACK=async-native` (myproject/settings.py reads it, myproject/asgi.py
builds this handler instead of Django's); off by default, when the project runs Django's own
`ASGIHandler` and middleware. No other application code refers to it (the tests and benchmarks do,
to measure and check it).

What it optimises, measured by `make bench-tax`:

- Middleware hops. Django's built-in middleware are `MiddlewareMixin` classes, whose hooks Django
  runs under ASGI through `sync_to_async` on every request: some fifteen thread hand-offs for the
  project's list. `middleware.py` holds subclasses whose hooks, Django's own code unchanged, run on
  the event loop unless this request needs the thread (a session to save, a form body to read).
- Thread churn. asgiref starts a new single-thread executor for each request's sync code and joins
  it afterwards; `request_threads.py` leases one from a pool instead (`handler.py`).
- Signal hops. `request_started` and `request_finished` each cost a hop to the request's thread; when
  their only receivers are Django's own tidying ones, the handler folds them into the request's
  first hop, or skips them for a request that never used its thread.

`REPLACEMENTS` names each Django class it replaces and the class that replaces it. settings.MIDDLEWARE
keeps naming Django's classes: the handler loads these in their place (and ServeStatic's middleware,
WhiteNoise's async-capable fork reading the same settings, in place of WhiteNoise's sync-only one).

What it leans on, pinned in requirements.txt and re-read at every upgrade:

- asgiref: `ThreadSensitiveContext(executor=...)` (public since asgiref 3.13).
- Django, undocumented internals: `ASGIHandler.handle()` and `__call__()`, which `handler.py` repeats with its
  changes marked (tests/async_native/test_handler.py fails when Django's change);
  `ASGIHandler.run_get_response()`, `BaseHandler.load_middleware()` (it reads settings.MIDDLEWARE,
  which the handler sets to the replaced list for the length of that call, at start-up) and
  `adapt_method_mode()`; `Signal._live_receivers()`; `HttpResponseBase._resource_closers` and
  `_handler_class`; and the steps of `MiddlewareMixin.__acall__`, which `middleware.py` repeats.

Modules: `handler.py` (the handler), `request_threads.py` (its thread pool), `middleware.py` (the
middleware subclasses), `checks.py` (what the handler checks as it starts).

What a user must know before turning it on:

- Thread-locals outlive the request. A pooled thread serves many requests one after another, as a
  WSGI worker thread does: a library that keeps per-request state in a plain `threading.local` and
  never clears it shows it to the next request on that thread. Django's own per-request state
  lives in contextvars; database connections are closed at each request's end when CONN_MAX_AGE is
  0, by Django's `request_finished` receiver on that very thread.
- With only Django's receivers connected, `request_started`'s run on the request's thread just
  before its first sync call rather than before the middleware, and `request_finished` is not sent
  for a request that never used its thread. Connecting any other receiver (an APM or
  error-reporting library's) brings back Django's timing for every request.
- A subclass of one of these middleware classes that overrides a hook runs that hook on the
  request's thread, as Django does; the speed-up is lost for that hook only. A middleware of your
  own that is not async-capable puts itself and its neighbours back on a thread: the handler logs
  a warning naming it as it starts.
- It is ported from Django 5.2's handler and refuses to start on another feature release.
- Django's own tests for the replaced components are the standard these classes are held to, run
  with them in Django's place; after a Django or asgiref upgrade, re-read the APIs above first.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from async_native.handler import PooledThreadASGIHandler

# Each Django class this package replaces, by dotted path, and the package's class in its place.
REPLACEMENTS: dict[str, str] = {
    "django.core.handlers.asgi.ASGIHandler": "async_native.handler.PooledThreadASGIHandler",
    **{
        f"django.{module}.{name}": f"async_native.middleware.{name}"
        for module, name in [
            ("middleware.security", "SecurityMiddleware"),
            ("contrib.sessions.middleware", "SessionMiddleware"),
            ("middleware.common", "CommonMiddleware"),
            ("middleware.csrf", "CsrfViewMiddleware"),
            ("contrib.auth.middleware", "AuthenticationMiddleware"),
            ("contrib.messages.middleware", "MessageMiddleware"),
            ("middleware.clickjacking", "XFrameOptionsMiddleware"),
        ]
    },
}

# Not Django's: WhiteNoise's middleware is sync-only, so under ASGI it costs a hop on every request.
# ServeStatic, its async fork, reads the same settings (SERVESTATIC_* beside WHITENOISE_*); the
# subclass answers a missing file with a 404, as WhiteNoise's stack does (async_native/static_files.py).
ASYNC_CAPABLE_EQUIVALENTS: dict[str, str] = {
    "whitenoise.middleware.WhiteNoiseMiddleware": "async_native.static_files.ServeStaticMiddleware",
}


def middleware_in_place_of(middleware: list[str]) -> list[str]:
    """`middleware` (dotted paths, as in settings.MIDDLEWARE) with the package's classes in place of
    the ones they replace; every other entry as it is, in its place."""
    replacements = REPLACEMENTS | ASYNC_CAPABLE_EQUIVALENTS
    return [replacements.get(path, path) for path in middleware]


def get_asgi_application() -> "PooledThreadASGIHandler":
    """`django.core.asgi.get_asgi_application()`, with this package's handler: it sets Django up,
    then builds the handler, which loads the middleware once."""
    import django

    # Imported here: the handler's imports need settings, which the caller has just named.
    from async_native.handler import PooledThreadASGIHandler

    django.setup(set_prefix=False)
    return PooledThreadASGIHandler()

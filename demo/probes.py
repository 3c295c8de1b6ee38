"""What the demo probes share, written once: reading their query parameters, the CPU work, the
database read and the JSON answer. demo/views.py holds only what differs between a `def` view and an
`async def` view: how they wait.
"""

import functools
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse

from demo.probe_slots import TAKES_A_SLOT, probe_slot_acquire, probe_slots
from myproject.which_stack.served_by import interface_of, worker_pool

# The longest a sleep probe may wait, and the longest the sync fanout may wait in total (n x ms):
# well under Gunicorn's worker timeout (deploy/start-wsgi.sh), which kills a sync worker that
# holds one request longer.
MAX_WAIT_MS = 10_000
MAX_FANOUT = 50
# One cpu request may hold a core for at most a second; more would only show a timeout.
MAX_CPU_MS = 1_000
DB_PROBE_ROWS = 10

WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


class BadProbeParameter(ValueError):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Wait:
    ms: int

    @property
    def seconds(self) -> float:
        return self.ms / 1000


@dataclass(frozen=True)
class Fanout:
    n: int
    ms: int

    @property
    def seconds(self) -> float:
        return self.ms / 1000


def whole_number(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    # A regex, not int() alone: int() also accepts " 5", "+5", "1_000" and non-ASCII digits.
    if not WHOLE_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadProbeParameter(name, f"{name} must be a whole number from {low} to {high}, not {raw!r}.")
    return int(raw)


# Each reader takes a query (request.GET, or the race page's parameters, demo/race_rules.py): one set of
# rules for both.


def wait_from(query: Mapping[str, str], default_ms: int = 100) -> Wait:
    return Wait(whole_number(query, "ms", default_ms, 0, MAX_WAIT_MS))


def fanout_from(query: Mapping[str, str]) -> Fanout:
    n = whole_number(query, "n", 5, 1, MAX_FANOUT)
    ms = whole_number(query, "ms", 50, 0, MAX_WAIT_MS)
    if n * ms > MAX_WAIT_MS:
        raise BadProbeParameter(
            "ms", f"n x ms must be at most {MAX_WAIT_MS} (the sync view waits that long), not {n * ms}."
        )
    return Fanout(n, ms)


def cpu_ms_from(query: Mapping[str, str]) -> int:
    return whole_number(query, "ms", 10, 0, MAX_CPU_MS)


def burn_cpu(ms: int) -> int:
    """Pure Python arithmetic until this thread has used `ms` of CPU time; returns the rounds done.

    Thread CPU time, not wall time: on a busy machine the request takes longer, but every request
    costs the same amount of work.
    """
    deadline = time.thread_time() + ms / 1000
    rounds, value = 0, 0
    while time.thread_time() < deadline:
        for number in range(1_000):
            value = (value * 31 + number) % 1_000_003
        rounds += 1
    return rounds


def demo_users() -> QuerySet[Any, Mapping[str, Any]]:
    """The db probe's small read: one indexed query, a few rows, the same for both views."""
    return get_user_model().objects.order_by("id").values("id", "username")[:DB_PROBE_ROWS]


def probe_response(
    request: HttpRequest, probe: str, view_kind: str, started: float, **facts: object
) -> JsonResponse:
    elapsed = time.perf_counter() - started
    ended_ms = time.time() * 1000
    pool = worker_pool()
    return JsonResponse(
        {
            "probe": probe,
            "interface": interface_of(request),
            "view_kind": view_kind,
            # A `def` view under ASGI runs on a worker thread, an `async def` view on the event
            # loop's thread; under WSGI both run on the worker's thread.
            "thread": threading.current_thread().name,
            # Names repeat (every request thread of Django's ASGI handler is "django-request_0");
            # the id tells the threads apart.
            "thread_id": threading.get_ident(),
            "pid": os.getpid(),
            "elapsed_ms": round(elapsed * 1000, 1),
            # Wall-clock time (Unix epoch, ms) when the view began and ended, for the race page's
            # lanes: comparable with a client's clock on the same machine, unlike perf_counter.
            "began_ms": round(ended_ms - elapsed * 1000, 1),
            "ended_ms": round(ended_ms, 1),
            # How many requests this server holds at once, when it can tell (Gunicorn's workers);
            # null under ASGI, whose event loop has no such limit.
            "worker_pool": None if pool is None else {**asdict(pool), "slots": pool.slots},
            # How many probes that hold its capacity this stack runs at once (demo/probe_slots.py),
            # null when nothing bounds them; whether this one is such a probe here.
            "probe_slots": probe_slots(interface_of(request)),
            "takes_a_slot": probe in TAKES_A_SLOT[interface_of(request)],
            **facts,
        }
    )


def bad_parameter_response(error: BadProbeParameter) -> JsonResponse:
    return JsonResponse({"error": error.message, "parameter": error.name}, status=400)


def rejects_bad_parameters(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a BadProbeParameter raised by the view with 400 and a JSON error.

    The wrapper must be of the same kind as the view: Django checks whether a view is a coroutine
    function to decide how to call it, and a sync wrapper around an `async def` view would hand it
    an un-awaited coroutine.
    """
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return await view(request, *args, **kwargs)
            except BadProbeParameter as error:
                return bad_parameter_response(error)

        return async_wrapper

    @functools.wraps(view)
    def sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except BadProbeParameter as error:
            return bad_parameter_response(error)

    return sync_wrapper


# The probes that hold a stack's capacity take a slot first (demo/probe_slots.py says which, and why).
# Past the bound a client hears so at once; the race's driver queues its lanes (demo/race_driver.py).
PROBE_SLOTS_FULL = "probe_slots_full"
RETRY_AFTER_SECONDS = 1


def probes_busy_response(slots: int) -> JsonResponse:
    response = JsonResponse(
        {
            "error": f"This stack runs at most {slots} slow demo probe(s) at once, to keep the rest of "
            "it for the site. Try again in a moment.",
            "code": PROBE_SLOTS_FULL,
            "slots": slots,
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def takes_probe_slot(probe: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run the view in one of its stack's probe slots when `probe` holds that stack's capacity
    (TAKES_A_SLOT); answer 503 when none is free. Of the view's own kind, as rejects_bad_parameters."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                interface = interface_of(request)
                if probe not in TAKES_A_SLOT[interface]:
                    return await view(request, *args, **kwargs)
                # Taking a slot is an open() and a non-blocking flock(): no wait for the loop.
                slot = probe_slot_acquire(interface)
                if slot is None:
                    return probes_busy_response(probe_slots(interface) or 0)
                with slot:
                    return await view(request, *args, **kwargs)

            return async_wrapper

        @functools.wraps(view)
        def sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            interface = interface_of(request)
            if probe not in TAKES_A_SLOT[interface]:
                return view(request, *args, **kwargs)
            slot = probe_slot_acquire(interface)
            if slot is None:
                return probes_busy_response(probe_slots(interface) or 0)
            with slot:
                return view(request, *args, **kwargs)

        return sync_wrapper

    return decorate

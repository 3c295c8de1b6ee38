"""The demo probes: each one twice, as a `def` view and as an `async def` view, side by side.

Read them in pairs. The work is the same; what differs is how each view waits:
- a `def` view blocks its thread while it waits. Under WSGI that thread is the worker's, so the
  worker serves nobody else meanwhile; under ASGI Django runs the view on a thread of its own
  (sync_to_async), so the event loop stays free but every waiting request holds a thread.
- an `async def` view awaits: its thread (the event loop's) serves other requests meanwhile. Under
  WSGI Django runs it in a short-lived event loop of its own (async_to_sync), which costs a little
  and gains nothing, since the WSGI worker still waits for it to finish.

Parameters are read and checked once, in demo/probes.py; a bad value gets 400 and a JSON error.
A probe that holds its stack's capacity takes a slot first (`takes_probe_slot`, demo/probe_slots.py):
sleep and fanout on WSGI only, where they hold a sync worker; cpu and blocking on both, since they
also hold an event loop.
"""

import asyncio
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from demo.probes import (
    DB_PROBE_ROWS,
    MAX_CPU_MS,
    MAX_FANOUT,
    MAX_WAIT_MS,
    burn_cpu,
    cpu_ms_from,
    demo_users,
    fanout_from,
    probe_response,
    rejects_bad_parameters,
    takes_probe_slot,
    wait_from,
)
from demo.race_rules import LANE_GROUPS, MAX_REQUESTS, MAX_SERIAL_MS_PER_GROUP, PROBES
from myproject.which_stack.layout import race_socket_port
from myproject.which_stack.served_by import interface_of


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    limits = {"max_wait_ms": MAX_WAIT_MS, "max_fanout": MAX_FANOUT, "max_cpu_ms": MAX_CPU_MS}
    return render(request, "demo/index.html", {"db_rows": DB_PROBE_ROWS, **limits})


# hello: the smallest possible request, so what it measures is the server, Django and middleware.


@require_safe
def sync_hello(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    return probe_response(request, "hello", "sync", started)


@require_safe
async def async_hello(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    return probe_response(request, "hello", "async", started)


# sleep: one wait, standing in for a slow call to another service.


@require_safe
@takes_probe_slot("sleep")
@rejects_bad_parameters
def sync_sleep(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    wait = wait_from(request.GET)
    time.sleep(wait.seconds)
    return probe_response(request, "sleep", "sync", started, ms=wait.ms)


@require_safe
@takes_probe_slot("sleep")
@rejects_bad_parameters
async def async_sleep(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    wait = wait_from(request.GET)
    await asyncio.sleep(wait.seconds)
    return probe_response(request, "sleep", "async", started, ms=wait.ms)


# fanout: n independent waits, like calling n services for one page.


@require_safe
@takes_probe_slot("fanout")
@rejects_bad_parameters
def sync_fanout(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    fanout = fanout_from(request.GET)
    # One thread can wait for one thing at a time: n waits take n x ms.
    for _ in range(fanout.n):
        time.sleep(fanout.seconds)
    return probe_response(request, "fanout", "sync", started, n=fanout.n, ms=fanout.ms)


@require_safe
@takes_probe_slot("fanout")
@rejects_bad_parameters
async def async_fanout(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    fanout = fanout_from(request.GET)
    # The event loop waits for all of them at once: n waits take about ms.
    await asyncio.gather(*(asyncio.sleep(fanout.seconds) for _ in range(fanout.n)))
    return probe_response(request, "fanout", "async", started, n=fanout.n, ms=fanout.ms)


# db: a small ORM read.


@require_safe
def sync_db(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    rows = list(demo_users())
    return probe_response(request, "db", "sync", started, rows=len(rows))


@require_safe
async def async_db(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    # Django's async ORM API: the query still runs in the sync database driver, on a worker thread
    # (sync_to_async), but this view's thread, the event loop, is free while it does.
    rows = [row async for row in demo_users()]
    return probe_response(request, "db", "async", started, rows=len(rows))


# cpu: pure computation. Nothing to wait for, so async has nothing to gain.


@require_safe
@takes_probe_slot("cpu")
@rejects_bad_parameters
def sync_cpu(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    ms = cpu_ms_from(request.GET)
    rounds = burn_cpu(ms)
    return probe_response(request, "cpu", "sync", started, ms=ms, rounds=rounds)


@require_safe
@takes_probe_slot("cpu")
@rejects_bad_parameters
async def async_cpu(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    ms = cpu_ms_from(request.GET)
    # There is no await in computing: the event loop serves nobody else for these ms. Sending the
    # work to a thread would free the loop, but the GIL still runs one thread of Python at a time.
    rounds = burn_cpu(ms)
    return probe_response(request, "cpu", "async", started, ms=ms, rounds=rounds)


# blocking: the classic mistake, only in async.


@require_safe
@takes_probe_slot("blocking")
@rejects_bad_parameters
async def async_blocking(request: HttpRequest) -> JsonResponse:
    started = time.perf_counter()
    wait = wait_from(request.GET)
    # WRONG ON PURPOSE, kept to be measured: time.sleep() inside an `async def` view blocks the
    # event loop, so every other request on this worker stalls with it. Never do this; await
    # asyncio.sleep() (or any awaitable) instead, as async_sleep does.
    time.sleep(wait.seconds)  # noqa: ASYNC251
    return probe_response(request, "blocking", "async", started, ms=wait.ms)


# The race page: N of one probe at once on every quadrant, drawn live (docs/race.md).


@require_safe
def race(request: HttpRequest) -> HttpResponse:
    stacks = {"wsgi": settings.RACE_WSGI_URL, "asgi": settings.RACE_ASGI_URL}
    socket_port = race_socket_port(request)
    context = {
        "groups": LANE_GROUPS.values(),
        "probes": PROBES,
        "max_requests": MAX_REQUESTS,
        "max_serial_ms": MAX_SERIAL_MS_PER_GROUP,
        "max_wait_ms": MAX_WAIT_MS,
        "interface": interface_of(request),
        # The page's browser-direct mode calls each stack on the page's own host name at the
        # stack's port; an unconfigured ASGI stack means this very server (runserver).
        "stack_ports": {stack: urlsplit(url).port or "" for stack, url in stacks.items() if url},
        "one_stack": not (stacks["wsgi"] and stacks["asgi"]),
        # The socket goes to the driver's own process where it has one (make run), else to the ASGI
        # stack: the WSGI stack cannot hold one (as on the chat pages).
        "socket_port": socket_port or "",
        "served_by_wsgi_without_socket_port": interface_of(request) == "wsgi" and not socket_port,
    }
    return render(request, "demo/race.html", context)

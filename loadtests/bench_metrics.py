"""What /metrics' bookkeeping costs a request: the CPU of one pass through
RequestMetricsMiddleware (metrics/middleware.py) around a view that does nothing, and of one
accepted-and-closed WebSocket in the open-sockets gauge (metrics/websockets.py).

    make bench-metrics        (python -m loadtests.bench_metrics [--passes 50000])

In process, no server and no network. Each case runs in a child Python twice: with
PROMETHEUS_MULTIPROC_DIR set, as deploy/start-*.sh run the servers (each value is written to a
memory-mapped file), and without it (runserver: values in memory). The figure is the median over
several rounds of the CPU per call, minus the same call without the middleware.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from testbed.environment import base_environment
from testbed.processes import ROOT

ROUNDS = 7

CHILD = r"""
import asyncio, json, statistics, sys, time
import django
django.setup()
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve
from metrics.middleware import RequestMetricsMiddleware
from metrics.websockets import CountOpenWebSockets

passes, rounds = int(sys.argv[1]), int(sys.argv[2])
request = RequestFactory().get("/healthz")
request.resolver_match = resolve("/healthz")
response = HttpResponse(b"ok")

def view(request):
    return response

async def async_view(request):
    return response

def sync_cost(call):
    started = time.process_time()
    for _ in range(passes):
        call(request)
    return (time.process_time() - started) / passes * 1e6

async def async_cost(call):
    started = time.process_time()
    for _ in range(passes):
        await call(request)
    return (time.process_time() - started) / passes * 1e6

async def socket_app(scope, receive, send):
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": 1000})

async def no_op(message=None):
    return {"type": "websocket.connect"}

async def socket_cost(app):
    started = time.process_time()
    for _ in range(passes):
        await app({"type": "websocket"}, no_op, no_op)
    return (time.process_time() - started) / passes * 1e6

wrapped, awrapped = RequestMetricsMiddleware(view), RequestMetricsMiddleware(async_view)
counted = CountOpenWebSockets(socket_app)
wsgi, asgi, socket = [], [], []
for _ in range(rounds):
    wsgi.append(sync_cost(wrapped) - sync_cost(view))
    asgi.append(asyncio.run(async_cost(awrapped)) - asyncio.run(async_cost(async_view)))
    socket.append(asyncio.run(socket_cost(counted)) - asyncio.run(socket_cost(socket_app)))
print(json.dumps({name: statistics.median(values) for name, values in
                  (("wsgi", wsgi), ("asgi", asgi), ("socket", socket))}))
"""


def measure(passes: int, multiprocess_dir: str | None) -> dict[str, float]:
    env = base_environment(DJANGO_SETTINGS_MODULE="myproject.settings")
    if multiprocess_dir:
        env["PROMETHEUS_MULTIPROC_DIR"] = multiprocess_dir
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(passes), str(ROUNDS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passes", type=int, default=50000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as directory:
        rows = {
            "multiprocess files (the servers)": measure(arguments.passes, directory),
            "in memory (runserver)": measure(arguments.passes, None),
        }
    print(
        f"CPU per call, median of {ROUNDS} rounds of {arguments.passes:,} (Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores)"
    )
    print("| values kept in | WSGI request | ASGI request | WebSocket accepted and closed |")
    print("| --- | --- | --- | --- |")
    for mode, costs in rows.items():
        print(f"| {mode} | {costs['wsgi']:.1f} µs | {costs['asgi']:.1f} µs | {costs['socket']:.1f} µs |")


if __name__ == "__main__":
    main()

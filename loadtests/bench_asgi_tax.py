"""The ASGI tax, step by step (`make bench-tax`; docs/asgi-tax.md).

One worker of each configuration, pinned to one core, under the closed-loop load generator of
loadtests/http_load.py on another core. Rounds are interleaved (every configuration once per round,
in a rotating order) so that a neighbour's load on a shared machine falls on all of them alike; the
table shows medians, server CPU µs per request (from /proc, via psutil: steadier than throughput on
a busy machine) and ratios to the stock stack measured in the same run.

Like for like: each request comes on a new connection (`Connection: close`), on every server. That
is how nginx's default upstream talks to a backend, and Gunicorn's sync worker closes after every
response anyway, so a keep-alive client would spare only the ASGI servers the cost of a connection.
`--keep-alive` measures the other way; its figures are labelled so.

    python -m loadtests.bench_asgi_tax [--rounds 3] [--duration 5] [--connections 32] [--keep-alive]

Its flame graphs are loadtests/profile_asgi_tax.py's (`make flamegraph`).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from loadtests.http_load import LoadResult, run_load
from loadtests.servers import RunningServer, ServerConfig
from testbed.database import migrate_and_seed
from testbed.environment import base_environment
from testbed.machine import cpu_model, git_commit
from testbed.processes import free_port
from testbed.redis_server import redis_url
from testbed.web import DEPLOY

HELLO = {"asgi": "/demo/async/hello/", "wsgi": "/demo/sync/hello/"}
SLEEP_MS = 100
SLEEP_CONNECTIONS = 200
STEPS = "loadtests.asgi_tax_steps"
VERSIONS_SHOWN = ("django", "asgiref", "uvicorn", "gunicorn", "servestatic", "whitenoise")


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    config: ServerConfig


def asgi(name: str, label: str, **env: str) -> Variant:
    return Variant(
        name, label, ServerConfig(name, label, "asgi", [str(DEPLOY / "start-asgi.sh")], "ASGI_PORT", env)
    )


VARIANTS = [
    asgi("stock", "Django's ASGI stack as shipped (WhiteNoise): the default", DJANGO_ASGI_STACK="stock"),
    asgi(
        "loop-middleware",
        "+ Security, Common, CSRF (but its process_view), XFrame, Messages on the loop; ServeStatic",
        DJANGO_SETTINGS_MODULE=STEPS,
        BENCH_ASGI_TAX_STEP="loop-middleware",
    ),
    asgi(
        "loop-session-auth",
        "+ Session and Auth on the loop",
        DJANGO_SETTINGS_MODULE=STEPS,
        BENCH_ASGI_TAX_STEP="loop-session-auth",
    ),
    asgi(
        "async-native",
        "+ pooled request thread, signals' hops only when they have work: DJANGO_ASGI_STACK=async-native",
        DJANGO_ASGI_STACK="async-native",
    ),
    asgi(
        "async-native-no-access-log",
        "async-native, Uvicorn's access log off",
        DJANGO_ASGI_STACK="async-native",
        UVICORN_ACCESS_LOG="false",
    ),
    asgi(
        "no-middleware",
        "Django's ASGI stack, no middleware",
        DJANGO_ASGI_STACK="stock",
        DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE="1",
    ),
    Variant(
        "gunicorn-wsgi",
        "Gunicorn sync worker, WSGI, same middleware (def hello)",
        ServerConfig(
            "gunicorn-wsgi",
            "Gunicorn WSGI",
            "wsgi",
            [str(DEPLOY / "start-wsgi.sh")],
            "WSGI_PORT",
            {"GUNICORN_WORKER_CLASS": "sync"},
        ),
    ),
]
SLEEP_VARIANTS = ["stock", "async-native"]


@dataclass
class Sample:
    rps: float
    cpu_us: float
    errors: int


def measure(server: RunningServer, path: str, connections: int, duration: float, keep_alive: bool) -> Sample:
    before = server.cpu_seconds()
    result: LoadResult = run_load(f"{server.url}{path}", connections, duration, keep_alive)
    cpu = server.cpu_seconds() - before
    served = result.completed + result.late
    return Sample(result.requests_per_second, cpu / served * 1e6 if served else float("nan"), result.errors)


def split_cores() -> tuple[set[int], set[int]]:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return set(cores), set(cores)
    return {cores[0]}, {cores[-1]}


def machine_facts(server_cores: set[int], load_cores: set[int]) -> list[str]:
    return [
        f"CPU: {cpu_model()}, {os.cpu_count()} cores; server on core(s) {sorted(server_cores)}, "
        f"load generator on {sorted(load_cores)}",
        f"load average at start: {', '.join(f'{load:.2f}' for load in os.getloadavg())}",
        f"Python {platform.python_version()}; "
        + ", ".join(f"{name} {version(name)}" for name in VERSIONS_SHOWN)
        + f"; git {git_commit()}",
    ]


@contextmanager
def benchmark_environment(log_dir: Path) -> Iterator[dict[str, str]]:
    """A migrated SQLite file and a Redis (REDIS_URL's, or an embedded one) for one worker per server,
    each configuration's own settings left to it."""
    with redis_url(log_dir) as redis:
        env = base_environment(DATABASE_URL=f"sqlite:///{log_dir / 'bench.sqlite3'}", REDIS_URL=redis)
        env.pop("DJANGO_ASGI_STACK", None)
        env["WEB_CONCURRENCY"] = "1"
        migrate_and_seed(env, size=200)
        yield env


def start(variant: Variant, env: dict[str, str], cores: set[int], log_dir: Path) -> RunningServer:
    server = RunningServer(variant.config, env, free_port(), cores, log_dir / f"{variant.name}.log")
    server.wait_until_ready()
    server.warm_up([HELLO[variant.config.interface], "/static/css/site.css"], rounds=50)
    return server


def median(samples: list[Sample], field: str) -> float:
    return statistics.median(getattr(sample, field) for sample in samples)


def print_table(hello: dict[str, list[Sample]], sleep: dict[str, list[Sample]]) -> None:
    # On a core of its own, a worker busy all the time serves 1e6 / (CPU µs per request) req/s: the
    # "CPU ceiling", a throughput figure that a neighbour's load on a shared core does not bend.
    stock_rps, stock_cpu = median(hello["stock"], "rps"), median(hello["stock"], "cpu_us")
    print("\n| configuration | req/s | / stock | CPU µs/req | / stock | CPU ceiling req/s | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for variant in VARIANTS:
        samples = hello[variant.name]
        rps, cpu = median(samples, "rps"), median(samples, "cpu_us")
        errors = sum(sample.errors for sample in samples)
        print(
            f"| {variant.name}: {variant.label} | {rps:,.0f} | {rps / stock_rps:.2f} | {cpu:,.0f} "
            f"| {cpu / stock_cpu:.2f} | {1e6 / cpu:,.0f} | {errors} |"
        )

    def ratios(name: str, other: str) -> str:
        measured = median(hello[name], "rps") / median(hello[other], "rps")
        ceiling = median(hello[other], "cpu_us") / median(hello[name], "cpu_us")
        return f"{measured:.2f}x req/s measured, {ceiling:.2f}x by CPU ceiling"

    print("\nhello, async-native (access log on) against:")
    print(f"  the stock stack: {ratios('async-native', 'stock')}")
    print(f"  the stock stack without middleware: {ratios('async-native', 'no-middleware')}")
    print(f"  Gunicorn WSGI, same middleware, access logs on both: {ratios('async-native', 'gunicorn-wsgi')}")
    print("hello, the stock stack (access log on) against:")
    print(f"  Gunicorn WSGI, same middleware, access logs on both: {ratios('stock', 'gunicorn-wsgi')}")
    bound = SLEEP_CONNECTIONS / (SLEEP_MS / 1000)
    print(f"\nsleep?ms={SLEEP_MS} at {SLEEP_CONNECTIONS} connections, Little's-law bound {bound:,.0f} req/s:")
    for name, samples in sleep.items():
        rps, cpu = median(samples, "rps"), median(samples, "cpu_us")
        ceiling = min(1e6 / cpu, bound)
        print(
            f"  {name}: {rps:,.0f} req/s = {rps / bound:.0%} of the bound measured; {cpu:,.0f} µs/req, "
            f"CPU ceiling {ceiling:,.0f} req/s = {ceiling / bound:.0%}"
        )


def bench(options: argparse.Namespace) -> None:
    server_cores, load_cores = split_cores()
    os.sched_setaffinity(0, load_cores)
    facts = machine_facts(server_cores, load_cores)
    print("\n".join(facts), flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="bench-tax-") as folder,
        benchmark_environment(Path(folder)) as env,
    ):
        log_dir = Path(folder)
        servers: dict[str, RunningServer] = {}
        try:
            for variant in VARIANTS:
                servers[variant.name] = start(variant, env, server_cores, log_dir)
            hello: dict[str, list[Sample]] = {variant.name: [] for variant in VARIANTS}
            sleep: dict[str, list[Sample]] = {name: [] for name in SLEEP_VARIANTS}
            for round_number in range(options.rounds):
                # Rotate the order each round: no configuration always runs right after another.
                order = VARIANTS[round_number % len(VARIANTS) :] + VARIANTS[: round_number % len(VARIANTS)]
                for variant in order:
                    path = HELLO[variant.config.interface]
                    sample = measure(
                        servers[variant.name], path, options.connections, options.duration, options.keep_alive
                    )
                    hello[variant.name].append(sample)
                    print(f"round {round_number + 1} hello {variant.name}: {sample}", flush=True)
                for name in SLEEP_VARIANTS[:: 1 if round_number % 2 == 0 else -1]:
                    path = f"/demo/async/sleep/?ms={SLEEP_MS}"
                    sample = measure(
                        servers[name], path, SLEEP_CONNECTIONS, options.duration, options.keep_alive
                    )
                    sleep[name].append(sample)
                    print(f"round {round_number + 1} sleep {name}: {sample}", flush=True)
        finally:
            for server in servers.values():
                server.stop()
    print("\n" + "\n".join(facts))
    print(f"load average at the end: {', '.join(f'{load:.2f}' for load in os.getloadavg())}")
    rounds = f"{options.rounds} interleaved rounds of {options.duration:g} s"
    connecting = "keep-alive connections" if options.keep_alive else "a new connection per request"
    print(f"{rounds}, hello at {options.connections} clients, {connecting}")
    print_table(hello, sleep)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32, help="clients for hello")
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="reuse each client's connection where the server keeps it (Gunicorn's sync worker does not)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    bench(parse_arguments(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())

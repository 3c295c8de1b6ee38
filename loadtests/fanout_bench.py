"""Chat fan-out with its floor and its peer, in one run: `make bench-fanout`.

For each number of readers N, spread over two Uvicorn processes that share one Redis, it measures
three ways of sending one message to all N, in turn, round after round, each on fresh servers:

- chat:  the project's chat consumer (chat/consumers.py), a signed-in sender posting messages;
- plain: the tutorial-shaped consumer (chat/plain_consumer.py) on the same layer and server;
- floor: a bare ASGI application on the same server, no Channels, no Redis, that sends one
  pre-encoded frame to the N sockets it holds (loadtests/fanout_app.py).

Each message carries a tag; the readers run in their own processes (--client-processes), spread
over both servers, and note the time each tag arrives. For each run it prints: delivery latency
p50/p99/max (from the moment the sender's process sends the message to a reader's receipt, on the
machine's monotonic clock, which every process shares), the servers' CPU time per delivery (µs),
the readers' processes' CPU beside the servers', the servers' memory per connection (RSS after the
readers joined minus before, divided by N), and what was lost (sent x N minus received).

    python -m loadtests.fanout_bench                                  # N = 1000 5000 10000
    python -m loadtests.fanout_bench --clients 200 --repeat 1 --duration 5

Everything runs on 127.0.0.1 and is stopped at the end; results also go to
loadtests/results/fanout-<time>/summary.json with the servers' logs. This module starts the servers
and measures each run; the readers are in fanout_readers.py, the sender in fanout_sending.py, the
figures and the report in fanout_report.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import shlex
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from loadtests.clients import (
    RESULTS,
    latency_percentiles,
    machine,
    print_machine,
    process_usage,
    redis_and_sqlite,
    sender_cookie,
)
from loadtests.fanout_readers import path_of, reader_process, spread
from loadtests.fanout_report import KINDS, Run, print_run, print_summary, summary_rows
from loadtests.fanout_sending import Readers, send_and_collect
from testbed.processes import ROOT, VENV_BIN, free_port
from testbed.web import WebServer

LAYERS = ["RedisPubSubChannelLayer", "RedisChannelLayer"]
# After the readers joined: the chat's join broadcasts (presence) settle before the clock starts.
SETTLE_SECONDS = 2.0


# Servers ----------------------------------------------------------------------------------------


def fanout_server(env: dict[str, str], log_dir: Path) -> WebServer:
    """Uvicorn with deploy/start-asgi.sh's options, one worker, serving loadtests/fanout_app.py
    (the project's application plus the plain and floor routes) instead of myproject/asgi.py."""
    port = free_port()
    metrics_dir = log_dir / f"metrics-fanout-{port}"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    command = [
        *("uvicorn", "loadtests.fanout_app:application", "--app-dir", str(ROOT)),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--lifespan", "off"),
        *("--ws-max-size", "32768", "--timeout-keep-alive", "5", "--no-proxy-headers"),
    ]
    return WebServer(
        "uvicorn-fanout",
        command,
        {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "SERVER_INTERFACE": "asgi"},
        log_dir,
        port,
        ready_path="/readyz",
        ready_timeout=90,
    )


# One measurement --------------------------------------------------------------------------------


def measure(run: Run, options: argparse.Namespace, env: dict[str, str], results_dir: Path) -> Run:
    servers = [fanout_server({**env, "REDIS_CHANNEL_LAYER": run.layer}, results_dir) for _ in range(2)]
    readers: Readers = []
    try:
        for server in servers:
            server.start()
        urls = [server.url for server in servers]
        cookie = sender_cookie(urls[0]) if run.kind == "chat" else None
        room = f"fanout-{uuid.uuid4().hex[:8]}"
        prefix = f"{run.kind}-{uuid.uuid4().hex[:6]}-"
        rss_before = sum(process_usage(server.pid).rss_mib for server in servers)

        context = multiprocessing.get_context("spawn")
        shares = spread(run.clients, options.client_processes)
        first = 0
        connect_started = time.monotonic()
        for share in shares:
            ours, theirs = context.Pipe()
            process = context.Process(
                target=reader_process,
                args=(theirs, urls, path_of(run.kind, room), share, first, prefix, len(shares)),
            )
            process.start()
            readers.append((process, ours))
            first += share
        for _, pipe in readers:
            if not pipe.poll(600):
                raise TimeoutError("the readers did not connect within 10 minutes")
            _, refused = pipe.recv()
            run.refused_handshakes += refused
        run.connect_seconds = round(time.monotonic() - connect_started, 1)
        time.sleep(SETTLE_SECONDS)
        run.server_rss_mib_before = round(rss_before, 1)
        run.server_rss_mib_after = round(sum(process_usage(server.pid).rss_mib for server in servers), 1)
        run.kib_per_connection = round(1024 * (run.server_rss_mib_after - rss_before) / run.clients, 1)

        sent_at: dict[str, float] = {}
        cpu_before = started = 0.0
        profiler: subprocess.Popen[bytes] | None = None

        def clock_starts() -> None:
            """Called by the sender once its own join has settled, just before its first message."""
            nonlocal cpu_before, started, profiler
            cpu_before = sum(server.cpu_seconds() for server in servers)
            profiler = start_profiler(servers[0].pid, options, run)
            for _, pipe in readers:
                pipe.send("go")
            started = time.monotonic()

        reports = asyncio.run(
            send_and_collect(
                run,
                options.rate,
                options.duration,
                urls,
                room,
                prefix,
                cookie,
                sent_at,
                readers,
                clock_starts,
            )
        )
        latencies: list[float] = []
        for receipts, client_cpu in reports:
            run.client_cpu_seconds += client_cpu
            latencies.extend(at - sent_at[tag] for tag, at in receipts if tag in sent_at)
        run.seconds = round(time.monotonic() - started, 1)
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its flame graph and exits
            profiler.wait(60)
        run.server_cpu_seconds = round(sum(server.cpu_seconds() for server in servers) - cpu_before, 2)
        run.client_cpu_seconds = round(run.client_cpu_seconds, 3)
        run.received = len(latencies)
        run.server_cpu_us_per_delivery = round(1e6 * run.server_cpu_seconds / max(run.received, 1), 1)
        run.p50_ms, run.p99_ms, run.max_ms = latency_percentiles(latencies)
        run.load_average = list(machine()["load_average"])  # type: ignore[call-overload]
        for _, pipe in readers:
            pipe.send("close")
        for _, pipe in readers:
            with contextlib.suppress(EOFError):
                pipe.poll(60) and pipe.recv()
    finally:
        for child, _ in readers:
            child.join(30)
            if child.is_alive():
                child.kill()
        for server in servers:
            server.stop()
    return run


def start_profiler(pid: int, options: argparse.Namespace, run: Run) -> subprocess.Popen[bytes] | None:
    """With --profile: py-spy samples the first server from the first send until every reader has
    reported. --gil: only the thread holding the GIL, so the graph shows where the CPU goes;
    --nonblocking: the server is never paused (the sampling costs py-spy's CPU, not the server's)."""
    if options.profile is None or run.round != 1:
        return None
    options.profile.mkdir(parents=True, exist_ok=True)
    output = options.profile / f"{options.step}-{run.kind}-{run.clients}.svg"
    command = [str(VENV_BIN / "py-spy"), "record", "--pid", str(pid), "--format", "flamegraph"]
    command += ["--rate", "250", "--gil", "--nonblocking", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The whole benchmark ----------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000, 10000], help="readers")
    parser.add_argument("--rate", type=float, default=2.0, help="messages per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of sending per run")
    parser.add_argument("--repeat", type=int, default=2, help="rounds; the summary takes medians")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=KINDS)
    parser.add_argument("--layers", nargs="+", choices=LAYERS, default=LAYERS[:1])
    parser.add_argument("--client-processes", type=int, default=4, help="reader processes")
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument(
        "--profile", type=Path, default=None, help="folder for a py-spy flame graph of round 1 of each run"
    )
    parser.add_argument("--step", default="run", help="the flame graphs' name prefix")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, object]:
    options = parse(argv)
    results_dir = options.results_dir or RESULTS / f"fanout-{time.strftime('%Y%m%d-%H%M%S')}"
    results_dir.mkdir(parents=True, exist_ok=True)
    about = machine()
    print_machine(about)
    command = shlex.join(
        [sys.executable.rsplit("/", 1)[-1], "-m", "loadtests.fanout_bench", *(argv or sys.argv[1:])]
    )
    print(f"Command: {command}")
    print(
        f"Two Uvicorn processes, one Redis, {options.client_processes} reader processes;"
        f" {options.rate:g} msg/s for {options.duration:g} s per run\n",
        flush=True,
    )

    runs: list[Run] = []
    with redis_and_sqlite(results_dir) as (_, env):
        for clients in options.clients:
            for number in range(options.repeat):
                # Interleaved, and the order turns each round: a noisy neighbour hits every kind.
                kinds = (
                    options.kinds[number % len(options.kinds) :]
                    + options.kinds[: number % len(options.kinds)]
                )
                for kind in kinds:
                    for layer in options.layers if kind != "floor" else options.layers[:1]:
                        run = measure(Run(kind, layer, clients, number + 1), options, env, results_dir)
                        runs.append(run)
                        print_run(run)
    rows = summary_rows(runs)
    print_summary(rows)
    summary: dict[str, object] = {
        "machine": about,
        "command": command,
        "options": {
            key: str(value) if isinstance(value, Path) else value for key, value in vars(options).items()
        },
        "runs": [{**asdict(run), "lost": run.lost} for run in runs],
        "summary": rows,
    }
    (results_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nResults: {results_dir}/summary.json")
    return summary


if __name__ == "__main__":
    main()

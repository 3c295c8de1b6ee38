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
loadtests/results/fanout-<time>/summary.json with the servers' logs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import shlex
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from loadtests.clients import (
    RESULTS,
    machine,
    print_machine,
    process_usage,
    raise_open_files_limit,
    sender_cookie,
)
from testbed.database import migrate_and_seed
from testbed.environment import base_environment
from testbed.processes import ROOT, VENV_BIN, free_port
from testbed.redis_server import RedisServer
from testbed.web import WebServer

KINDS = ["chat", "plain", "floor"]
LAYERS = ["RedisPubSubChannelLayer", "RedisChannelLayer"]
# After the last send, how long the stragglers get before they count as lost.
DRAIN_SECONDS = 15.0
# Handshakes open at once, over all reader processes: enough to fill a room quickly, few enough not
# to measure a connection storm instead of the fan-out (loadtests/clients.py uses the same number).
CONNECT_CONCURRENCY = 50
# A handshake the chat refuses (its join to Redis timed out on a busy machine: docs/protocol.md's
# "try again later") is tried again, as a client would, after a pause.
CONNECT_ATTEMPTS = 5
RETRY_PAUSE_SECONDS = 1.0
# After the readers joined: the chat's join broadcasts (presence) settle before the clock starts.
SETTLE_SECONDS = 2.0


@dataclass
class Run:
    kind: str
    layer: str
    clients: int
    round: int
    sent: int = 0
    expected: int = 0
    received: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    server_cpu_seconds: float = 0.0
    server_cpu_us_per_delivery: float = 0.0
    client_cpu_seconds: float = 0.0
    seconds: float = 0.0
    server_rss_mib_before: float = 0.0
    server_rss_mib_after: float = 0.0
    kib_per_connection: float = 0.0
    connect_seconds: float = 0.0
    # Handshakes refused and tried again (each reader joined in the end, or the run failed).
    refused_handshakes: int = 0
    load_average: list[float] = field(default_factory=list)

    @property
    def lost(self) -> int:
        """Deliveries that had not arrived DRAIN_SECONDS after the last send: lost, or that late."""
        return self.expected - self.received


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


def path_of(kind: str, room: str, sender: bool = False) -> str:
    if kind == "floor":
        return "/ws/floor/?role=sender" if sender else "/ws/floor/"
    return f"/ws/{kind}/{room}/"


async def open_socket(url: str, path: str, cookie: str | None = None) -> ClientConnection:
    return await connect(
        f"ws://{url.removeprefix('http://')}{path}",
        origin=Origin(url),
        additional_headers={"Cookie": cookie} if cookie else None,
        open_timeout=120,
        max_queue=None,  # never let the client's own buffer push back on the server
        compression=None,
        proxy=None,
    )


def tag_of(raw: str | bytes) -> str | None:
    frame = json.loads(raw)
    if not isinstance(frame, dict):
        return None
    # The chat's and the floor's message frames name it client_id; the plain consumer's, text.
    tag = frame.get("client_id") or frame.get("text")
    return tag if isinstance(tag, str) else None


# Readers, in their own processes ----------------------------------------------------------------


def reader_process(
    pipe: Connection, urls: list[str], path: str, count: int, first: int, prefix: str, processes: int
) -> None:
    """Open `count` readers (reader i on server i mod len(urls)), say "ready", then note when each
    tag starting with `prefix` arrives; on ("stop", sent), wait for sent x count receipts (or the
    drain time), answer with them and this process's CPU time, then close."""
    raise_open_files_limit(count + 64)
    asyncio.run(read_until_stopped(pipe, urls, path, count, first, prefix, processes))


async def read_until_stopped(
    pipe: Connection, urls: list[str], path: str, count: int, first: int, prefix: str, processes: int
) -> None:
    loop = asyncio.get_running_loop()
    semaphore = asyncio.Semaphore(max(1, CONNECT_CONCURRENCY // processes))
    refused = 0
    receipts: list[tuple[str, float]] = []
    enough = asyncio.Event()
    expected: list[int] = []

    async def opened(number: int) -> ClientConnection:
        nonlocal refused
        for _ in range(CONNECT_ATTEMPTS - 1):
            try:
                async with semaphore:
                    return await open_socket(urls[number % len(urls)], path)
            except InvalidStatus:
                refused += 1
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
        async with semaphore:
            return await open_socket(urls[number % len(urls)], path)

    async def read(socket_: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in socket_:
                at = time.monotonic()
                tag = tag_of(raw)
                if tag is not None and tag.startswith(prefix):
                    receipts.append((tag, at))
                    if expected and len(receipts) >= expected[0]:
                        enough.set()

    sockets = await asyncio.gather(*(opened(first + number) for number in range(count)))
    reading = [asyncio.create_task(read(each)) for each in sockets]
    pipe.send(("ready", refused))
    await loop.run_in_executor(None, pipe.recv)  # "go"
    cpu_started = time.process_time()
    _, sent = await loop.run_in_executor(None, pipe.recv)  # ("stop", sent)
    expected.append(sent * count)
    if len(receipts) < expected[0]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(enough.wait(), DRAIN_SECONDS)
    pipe.send((receipts, time.process_time() - cpu_started))
    await loop.run_in_executor(None, pipe.recv)  # "close"
    for task in reading:
        task.cancel()
    await asyncio.gather(*(each.close() for each in sockets), return_exceptions=True)
    await asyncio.gather(*reading, return_exceptions=True)
    pipe.send("closed")


# One measurement --------------------------------------------------------------------------------


def measure(run: Run, options: argparse.Namespace, env: dict[str, str], results_dir: Path) -> Run:
    servers = [fanout_server({**env, "REDIS_CHANNEL_LAYER": run.layer}, results_dir) for _ in range(2)]
    readers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
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
        cpu_before = sum(server.cpu_seconds() for server in servers)
        profiler = start_profiler(servers[0].pid, options, run)
        for _, pipe in readers:
            pipe.send("go")
        started = time.monotonic()
        reports = asyncio.run(send_and_collect(run, options, urls, room, prefix, cookie, sent_at, readers))
        latencies: list[float] = []
        for receipts, client_cpu in reports:
            run.client_cpu_seconds += client_cpu
            latencies.extend(at - sent_at[tag] for tag, at in receipts if tag in sent_at)
        run.seconds = round(time.monotonic() - started, 1)
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its flame graph and exits
            profiler.wait(60)
        run.server_cpu_seconds = round(sum(server.cpu_seconds() for server in servers) - cpu_before, 2)
        run.client_cpu_seconds = round(run.client_cpu_seconds, 2)
        run.received = len(latencies)
        run.server_cpu_us_per_delivery = round(1e6 * run.server_cpu_seconds / max(run.received, 1), 1)
        if latencies:
            ordered = sorted(latencies)
            run.p50_ms = round(1000 * statistics.median(ordered), 1)
            run.p99_ms = round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1)
            run.max_ms = round(1000 * ordered[-1], 1)
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


def spread(clients: int, processes: int) -> list[int]:
    processes = max(1, min(processes, clients))
    return [clients // processes + (number < clients % processes) for number in range(processes)]


async def send_and_collect(
    run: Run,
    options: argparse.Namespace,
    urls: list[str],
    room: str,
    prefix: str,
    cookie: str | None,
    sent_at: dict[str, float],
    readers: list[tuple[multiprocessing.process.BaseProcess, Connection]],
) -> list[tuple[list[tuple[str, float]], float]]:
    """Send the messages at a fixed rate, then collect every reader process's receipts: the chat's
    through one signed-in socket (Redis takes each to both servers), the plain consumer's through
    one socket, the floor's through one sender socket per server (the floor has no channel layer).
    The senders stay open until the readers have reported: a consumer still working through its
    sender's frames would drop the rest when its socket closed."""
    if run.kind == "floor":
        senders = [await open_socket(url, path_of("floor", room, sender=True)) for url in urls]
    else:
        senders = [await open_socket(urls[0], path_of(run.kind, room), cookie)]
    draining = [asyncio.create_task(drain(each)) for each in senders]
    interval = 1 / options.rate
    started = time.monotonic()
    for number in range(int(options.rate * options.duration)):
        # An absolute schedule: a late send is not followed by an early one, so the rate holds.
        await asyncio.sleep(max(0.0, started + number * interval - time.monotonic()))
        tag = f"{prefix}{number}"
        if run.kind == "chat":
            frame = json.dumps({"type": "message", "text": f"fan-out #{number}", "client_id": tag})
        elif run.kind == "plain":
            frame = json.dumps({"text": tag})
        else:
            frame = tag
        sent_at[tag] = time.monotonic()
        for sender in senders:
            await sender.send(frame)
        run.sent += 1
    run.expected = run.sent * run.clients
    loop = asyncio.get_running_loop()
    reports = []
    for _, pipe in readers:
        pipe.send(("stop", run.sent))
    for _, pipe in readers:
        if not await loop.run_in_executor(None, pipe.poll, DRAIN_SECONDS + 120):
            raise TimeoutError("a reader process did not report")
        reports.append(pipe.recv())
    for task in draining:
        task.cancel()
    await asyncio.gather(*(each.close() for each in senders), return_exceptions=True)
    await asyncio.gather(*draining, return_exceptions=True)
    return reports


async def drain(socket_: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        async for _ in socket_:
            pass


# The whole benchmark ----------------------------------------------------------------------------


def print_run(run: Run) -> None:
    print(
        f"  {run.kind:<5} {run.layer:<24} N={run.clients:<5} round {run.round}"
        f" | received {run.received}/{run.expected} ({run.lost} missing {DRAIN_SECONDS:g} s after)"
        f" | p50 {run.p50_ms:7.1f} ms  p99 {run.p99_ms:7.1f} ms  max {run.max_ms:7.1f} ms"
        f" | servers' CPU {run.server_cpu_seconds:.2f} s = {run.server_cpu_us_per_delivery:.1f} µs/delivery,"
        f" readers' CPU {run.client_cpu_seconds:.2f} s"
        f" | {run.kib_per_connection:.1f} KiB/connection"
        f" | connect {run.connect_seconds:.1f} s ({run.refused_handshakes} refused, tried again)"
        f" | load {run.load_average}",
        flush=True,
    )


def summary_rows(runs: list[Run]) -> list[dict[str, object]]:
    """Medians over the rounds, per (N, layer, kind), with CPU per delivery as a multiple of the
    floor's in the same run: on a shared machine the ratio is steadier than the figures."""
    rows: list[dict[str, object]] = []
    for clients, layer in sorted({(run.clients, run.layer) for run in runs}):
        same_n = [run for run in runs if run.clients == clients and run.layer == layer]
        floor = [run.server_cpu_us_per_delivery for run in same_n if run.kind == "floor"]
        floor_us = statistics.median(floor) if floor else None
        for kind in KINDS:
            same = [run for run in same_n if run.kind == kind]
            if not same:
                continue
            us = statistics.median(run.server_cpu_us_per_delivery for run in same)
            rows.append(
                {
                    "kind": kind,
                    "layer": layer if kind != "floor" else "none",
                    "clients": clients,
                    "rounds": len(same),
                    "p50_ms": round(statistics.median(run.p50_ms for run in same), 2),
                    "p99_ms": round(statistics.median(run.p99_ms for run in same), 2),
                    "max_ms": max(run.max_ms for run in same),
                    "server_cpu_us_per_delivery": round(us, 1),
                    "times_floor": round(us / floor_us, 1) if floor_us else None,
                    "server_cpu_seconds": round(statistics.median(run.server_cpu_seconds for run in same), 2),
                    "client_cpu_seconds": round(statistics.median(run.client_cpu_seconds for run in same), 2),
                    "kib_per_connection": round(statistics.median(run.kib_per_connection for run in same), 2),
                    "lost": sum(run.lost for run in same),
                }
            )
    return rows


def print_summary(rows: list[dict[str, object]]) -> None:
    print("\nMedians over the rounds (CPU per delivery also as a multiple of the floor's):")
    for row in rows:
        print(
            f"  {row['kind']:<5} {row['layer']:<24} N={row['clients']:<5} x{row['rounds']}"
            f" | p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  max {row['max_ms']:7.1f} ms"
            f" | {row['server_cpu_us_per_delivery']:6.1f} µs/delivery ({row['times_floor']}x floor)"
            f" | servers {row['server_cpu_seconds']} s CPU, readers {row['client_cpu_seconds']} s"
            f" | {row['kib_per_connection']} KiB/connection | missing {row['lost']}"
        )


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

    redis = RedisServer(results_dir)
    redis.start()
    env = base_environment(DATABASE_URL=f"sqlite:///{results_dir / 'bench.sqlite3'}", REDIS_URL=redis.url)
    runs: list[Run] = []
    try:
        migrate_and_seed(env, size=0)
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
    finally:
        redis.stop()
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

"""Chat fan-out benchmark: one room, N WebSocket clients spread over two Uvicorn processes that share
one Redis, one signed-in sender writing at a fixed rate. `make bench-chat` runs it.

For each channel layer (RedisChannelLayer, RedisPubSubChannelLayer) and each N it prints: the
deliveries per second (each message reaches N readers), how many deliveries were missing, p50/p99
delivery latency (from the sender's send to a reader's receipt, both in this process), and the CPU
used by each server, by Redis and by this load generator, with the machine it ran on.

    python -m loadtests.chat_fanout                              # N = 100 and 1000, both layers
    python -m loadtests.chat_fanout --clients 100 --duration 10 --layers RedisPubSubChannelLayer

Everything runs on 127.0.0.1: an embedded Redis, a SQLite database and two Uvicorn processes, all
started here through the project's own start scripts and stopped at the end. Results also go to
loadtests/results/chat-fanout-<time>/summary.json, with the servers' logs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection

from loadtests.clients import (
    RESULTS,
    Deliveries,
    latency_percentiles,
    machine,
    open_readers,
    open_socket,
    paced,
    print_machine,
    raise_open_files_limit,
    read_deliveries,
    redis_and_sqlite,
    sender_cookie,
    start_uvicorns,
)
from testbed.processes import ROOT, ManagedProcess
from testbed.redis_server import RedisServer
from testbed.web import WebServer

LAYERS = ["RedisChannelLayer", "RedisPubSubChannelLayer"]
# After the last send, how long the stragglers get before they count as missing.
DRAIN_SECONDS = 10.0


@dataclass
class Run:
    layer: str
    clients: int
    rate: float
    duration: float
    sent: int = 0
    rate_limited: int = 0
    expected_deliveries: int = 0
    deliveries: int = 0
    deliveries_per_second: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    server_cpu_percent: list[float] = field(default_factory=list)
    # Servers' CPU time per delivery: steadier than latency when neighbours share the machine.
    server_cpu_us_per_delivery: float = 0.0
    redis_cpu_percent: float = 0.0
    load_generator_cpu_percent: float = 0.0
    connect_seconds: float = 0.0

    @property
    def missing(self) -> int:
        return self.expected_deliveries - self.deliveries


# Processes: the same start scripts and toolkit as the tests (testbed/) ---------------------------


def cpu_seconds(process: ManagedProcess) -> float:
    return process.cpu_seconds()


# One measurement --------------------------------------------------------------------------------


async def send_at_rate(sender: ClientConnection, run: Run, sent_at: dict[str, float]) -> None:
    async for number in paced(run.rate, run.duration):
        client_id = f"bench-{uuid.uuid4().hex}"
        sent_at[client_id] = time.perf_counter()
        await sender.send(
            json.dumps({"type": "message", "text": f"fan-out #{number}", "client_id": client_id})
        )
        run.sent += 1


async def count_refusals(sender: ClientConnection, run: Run) -> None:
    with contextlib.suppress(Exception):
        async for raw in sender:
            frame = json.loads(raw)
            if frame.get("type") == "error":
                run.rate_limited += frame.get("code") == "rate_limited"


async def measure(
    run: Run, urls: list[str], cookie: str, servers: list[WebServer], redis: RedisServer
) -> Run:
    room = f"fanout-{uuid.uuid4().hex[:8]}"
    connect_started = time.perf_counter()
    readers = await open_readers(urls, room, run.clients)
    sender = await open_socket(urls[0], room, cookie)
    run.connect_seconds = time.perf_counter() - connect_started
    await asyncio.sleep(1)  # let the join broadcasts settle

    deliveries = Deliveries()
    reading = [asyncio.create_task(read_deliveries(each, deliveries)) for each in readers]
    refusals = asyncio.create_task(count_refusals(sender, run))
    cpu_before = [cpu_seconds(server) for server in servers], cpu_seconds(redis), time.process_time()
    started = time.perf_counter()

    await send_at_rate(sender, run, deliveries.sent_at)
    run.expected_deliveries = run.sent * run.clients
    deliveries.expect(run.expected_deliveries)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(deliveries.complete.wait(), DRAIN_SECONDS)
    elapsed = time.perf_counter() - started
    latencies = deliveries.latencies

    servers_before, redis_before, client_before = cpu_before
    server_cpu_seconds = [
        cpu_seconds(server) - before for server, before in zip(servers, servers_before, strict=True)
    ]
    run.server_cpu_percent = [round(100 * seconds / elapsed, 1) for seconds in server_cpu_seconds]
    run.redis_cpu_percent = round(100 * (cpu_seconds(redis) - redis_before) / elapsed, 1)
    run.load_generator_cpu_percent = round(100 * (time.process_time() - client_before) / elapsed, 1)
    run.deliveries = len(latencies)
    run.server_cpu_us_per_delivery = round(1e6 * sum(server_cpu_seconds) / max(run.deliveries, 1), 1)
    # Over the time from the first send to the last receipt: a server that falls behind stretches it.
    first_sent = min(deliveries.sent_at.values(), default=started)
    run.deliveries_per_second = round(run.deliveries / max(deliveries.last_at - first_sent, 1e-9), 1)
    run.p50_ms, run.p99_ms, run.max_ms = latency_percentiles(latencies)

    for task in [*reading, refusals]:
        task.cancel()
    await asyncio.gather(*(each.close() for each in [*readers, sender]), return_exceptions=True)
    await asyncio.gather(*reading, refusals, return_exceptions=True)
    return run


# The whole benchmark ----------------------------------------------------------------------------


def print_run(run: Run) -> None:
    print(
        f"  {run.layer:<24} N={run.clients:<5} sent {run.sent} at {run.rate:g}/s"
        f" | delivered {run.deliveries}/{run.expected_deliveries} ({run.missing} missing)"
        f" | {run.deliveries_per_second:8.1f} deliveries/s"
        f" | p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:7.1f} ms  max {run.max_ms:7.1f} ms"
        f" | CPU: servers {' + '.join(f'{cpu:.0f}%' for cpu in run.server_cpu_percent)}"
        f" ({run.server_cpu_us_per_delivery:.0f} µs/delivery),"
        f" Redis {run.redis_cpu_percent:.0f}%, load generator {run.load_generator_cpu_percent:.0f}%"
        f" | rate_limited {run.rate_limited} | connect {run.connect_seconds:.1f} s",
        flush=True,
    )


def run_layer(
    layer: str, options: argparse.Namespace, env: dict[str, str], redis: RedisServer, results_dir: Path
) -> list[Run]:
    servers = start_uvicorns({**env, "REDIS_CHANNEL_LAYER": layer}, results_dir)
    runs = []
    try:
        urls = [server.url for server in servers]
        cookie = sender_cookie(urls[0])
        for clients in options.clients:
            run = Run(layer=layer, clients=clients, rate=options.rate, duration=options.duration)
            runs.append(asyncio.run(measure(run, urls, cookie, servers, redis)))
            print_run(run)
    finally:
        for server in servers:
            server.stop()
    return runs


def print_medians(runs: list[Run]) -> None:
    print("\nMedians over the rounds:")
    for layer, clients in sorted(
        {(run.layer, run.clients) for run in runs}, key=lambda key: (key[1], key[0])
    ):
        same = [run for run in runs if (run.layer, run.clients) == (layer, clients)]
        cpu = statistics.median(sum(run.server_cpu_percent) for run in same)
        per_delivery = statistics.median(run.server_cpu_us_per_delivery for run in same)
        print(
            f"  {layer:<24} N={clients:<5}"
            f" | {statistics.median(run.deliveries_per_second for run in same):8.1f} deliveries/s"
            f" | p50 {statistics.median(run.p50_ms for run in same):6.1f} ms"
            f"  p99 {statistics.median(run.p99_ms for run in same):7.1f} ms"
            f" | servers' CPU {cpu:.0f}% of one core, {per_delivery:.0f} µs/delivery"
            f" | missing {sum(run.missing for run in same)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000], help="readers in the room")
    parser.add_argument("--rate", type=float, default=5.0, help="messages per second from the sender")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of sending per run")
    parser.add_argument("--layers", nargs="+", choices=LAYERS, default=LAYERS)
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds over every layer; the summary takes medians"
    )
    options = parser.parse_args()

    # Each reader is a socket of this process.
    raise_open_files_limit(2 * max(options.clients))

    results_dir = RESULTS / f"chat-fanout-{time.strftime('%Y%m%d-%H%M%S')}"
    results_dir.mkdir(parents=True)
    about = machine()
    print_machine(about)
    print(
        f"Two Uvicorn processes, one Redis, one sender at {options.rate:g} msg/s for {options.duration:g} s\n"
    )

    runs: list[Run] = []
    try:
        with redis_and_sqlite(results_dir) as (redis, env):
            # Rounds alternate the layers, so that a noisy neighbour on a shared machine hits both.
            for _round in range(options.repeat):
                for layer in options.layers:
                    runs.extend(run_layer(layer, options, env, redis, results_dir))
    finally:
        if options.repeat > 1:
            print_medians(runs)
        summary = {"machine": about, "options": vars(options), "runs": [asdict(run) for run in runs]}
        (results_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        print(f"\nResults: {results_dir.relative_to(ROOT)}/summary.json")


if __name__ == "__main__":
    main()

"""Soak: N WebSocket readers in one chat room over two Uvicorn processes, a steady sender, for a
fixed time. `make soak` runs it.

It prints the deliveries (every message reaches every reader), the missing ones, p50/p99 delivery
latency (from the sender's send to a reader's receipt, both in this process), readers the servers
closed, and each server's resident memory and open file descriptors before the readers join
("idle") and at the start, middle and end of the sending, with the machine's load average.

    python -m loadtests.soak                                      # 1,000 readers, 60 s, 2 msg/s
    python -m loadtests.soak --clients 5000 --rate 1 --duration 60

Everything runs on 127.0.0.1: an embedded Redis, a SQLite database and two Uvicorn processes (the
default RedisPubSubChannelLayer), started through the project's start scripts and stopped at the
end. The servers' logs go to loadtests/results/soak-<time>/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection

from loadtests.clients import (
    RESULTS,
    Deliveries,
    ProcessUsage,
    latency_percentiles,
    machine,
    open_readers,
    open_socket,
    paced,
    print_machine,
    process_usage,
    raise_open_files_limit,
    read_deliveries,
    sender_cookie,
    start_uvicorns,
)
from testbed.database import migrate_and_seed
from testbed.environment import base_environment
from testbed.processes import ROOT
from testbed.redis_server import RedisServer
from testbed.web import WebServer

# After the last send, how long the stragglers get before they count as missing.
DRAIN_SECONDS = 20.0


@dataclass
class Soak:
    clients: int
    rate: float
    duration: float
    sent: int = 0
    expected: int = 0
    delivered: int = 0
    closed_by_server: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    connect_seconds: float = 0.0
    # Per server: {"idle": ..., "start": ..., "middle": ..., "end": ...}
    usage: list[dict[str, ProcessUsage]] = field(default_factory=list)
    load: dict[str, list[float]] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        return self.expected - self.delivered


def sample(soak: Soak, servers: list[WebServer], moment: str) -> None:
    for usage, server in zip(soak.usage, servers, strict=True):
        usage[moment] = process_usage(server.pid)
    soak.load[moment] = [round(load, 2) for load in os.getloadavg()]


async def watch_reader(socket_: ClientConnection, deliveries: Deliveries, soak: Soak) -> None:
    await read_deliveries(socket_, deliveries)
    if socket_.close_code is not None and socket_.close_code != 1000:
        soak.closed_by_server += 1  # the server closed it (1013, 1011...) while the soak ran


async def soak_room(soak: Soak, servers: list[WebServer], cookie: str) -> None:
    urls = [server.url for server in servers]
    room = f"soak-{uuid.uuid4().hex[:8]}"
    soak.usage = [{} for _ in servers]
    sample(soak, servers, "idle")
    connect_started = time.perf_counter()
    readers = await open_readers(urls, room, soak.clients)
    sender = await open_socket(urls[0], room, cookie)
    soak.connect_seconds = round(time.perf_counter() - connect_started, 1)
    await asyncio.sleep(1)  # let the join broadcasts settle

    deliveries = Deliveries()
    reading = [asyncio.create_task(watch_reader(each, deliveries, soak)) for each in readers]
    draining = asyncio.create_task(read_deliveries(sender, Deliveries()))  # its echoes, unread otherwise
    sample(soak, servers, "start")
    total = int(soak.rate * soak.duration)
    async for number in paced(soak.rate, soak.duration):
        if number == total // 2:
            sample(soak, servers, "middle")
        client_id = f"soak-{uuid.uuid4().hex}"
        deliveries.sent_at[client_id] = time.perf_counter()
        await sender.send(json.dumps({"type": "message", "text": f"soak #{number}", "client_id": client_id}))
        soak.sent += 1
    soak.expected = soak.sent * soak.clients
    deliveries.expect(soak.expected)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(deliveries.complete.wait(), DRAIN_SECONDS)
    sample(soak, servers, "end")

    soak.delivered = len(deliveries.latencies)
    soak.p50_ms, soak.p99_ms, soak.max_ms = latency_percentiles(deliveries.latencies)
    for task in [*reading, draining]:
        task.cancel()
    await asyncio.gather(*(each.close() for each in [*readers, sender]), return_exceptions=True)
    await asyncio.gather(*reading, draining, return_exceptions=True)


def print_soak(soak: Soak) -> None:
    print(
        f"Readers {soak.clients} (connected in {soak.connect_seconds:g} s), sent {soak.sent}"
        f" at {soak.rate:g}/s over {soak.duration:g} s",
        flush=True,
    )
    print(
        f"Deliveries {soak.delivered}/{soak.expected} ({soak.missing} missing),"
        f" readers closed by a server {soak.closed_by_server}"
        f" | p50 {soak.p50_ms:g} ms  p99 {soak.p99_ms:g} ms  max {soak.max_ms:g} ms"
    )
    moments = ["idle", "start", "middle", "end"]
    for number, usage in enumerate(soak.usage, start=1):
        memory = "  ".join(f"{moment} {usage[moment].rss_mib:g}" for moment in moments)
        files = "  ".join(f"{moment} {usage[moment].open_files}" for moment in moments)
        print(f"Uvicorn {number}: RSS MiB: {memory} | open files: {files}")
    print("Load average (1, 5, 15 min): " + "  ".join(f"{moment} {soak.load[moment]}" for moment in moments))


def main(arguments: list[str] | None = None) -> Soak:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="readers in the room")
    parser.add_argument("--rate", type=float, default=2.0, help="messages per second from the sender")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sending")
    options = parser.parse_args(arguments)
    open_files = raise_open_files_limit(options.clients)

    results_dir = RESULTS / f"soak-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"
    results_dir.mkdir(parents=True)
    print_machine(machine())
    print(f"Two Uvicorn processes, one Redis, RedisPubSubChannelLayer; open-files limit {open_files}\n")

    redis = RedisServer(results_dir)
    redis.start()
    env = base_environment(DATABASE_URL=f"sqlite:///{results_dir / 'soak.sqlite3'}", REDIS_URL=redis.url)
    for name in ("REDIS_SENTINELS", "REDIS_CHANNEL_LAYER"):
        env.pop(name, None)
    soak = Soak(clients=options.clients, rate=options.rate, duration=options.duration)
    try:
        migrate_and_seed(env, size=0)
        servers = start_uvicorns(env, results_dir)
        try:
            asyncio.run(soak_room(soak, servers, sender_cookie(servers[0].url)))
        finally:
            for server in servers:
                server.stop()
    finally:
        redis.stop()
    print_soak(soak)
    print(f"\nServer logs: {results_dir.relative_to(ROOT)}/")
    return soak


if __name__ == "__main__":
    main()

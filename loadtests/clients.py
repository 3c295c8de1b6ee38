"""What the WebSocket benchmarks share: the servers they start, the machine they print, chat
clients that join a room and count what they receive, the sender's pace and the latency figures.

`chat_fanout.py` (`make bench-chat`), `fanout_bench.py` (`make bench-fanout`), `soak.py`
(`make soak`) and `chaos.py` (`make chaos`) use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import resource
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from testbed.database import migrate_and_seed
from testbed.environment import base_environment
from testbed.login import logged_in_session
from testbed.machine import cpu_model, load_average, package_versions, redis_server_version
from testbed.processes import ROOT, tree_processes
from testbed.redis_server import RedisServer
from testbed.web import WebServer, uvicorn_server

RESULTS = ROOT / "loadtests" / "results"
# A demo account (seed_demo): only signed-in users may send.
SENDER = "alice"
# Handshakes opened at once while the readers join: enough to fill a room quickly, few enough not
# to measure a connection storm instead of the fan-out.
CONNECT_CONCURRENCY = 50


# Processes ----------------------------------------------------------------------------------------


def start_uvicorns(env: dict[str, str], log_dir: Path, count: int = 2) -> list[WebServer]:
    """Separate ASGI processes, one worker each, sharing one Redis: the fan-out crosses processes."""
    servers: list[WebServer] = []
    try:
        for _ in range(count):
            servers.append(uvicorn_server(env, log_dir, workers=1))
            servers[-1].start()
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


@contextlib.contextmanager
def redis_and_sqlite(results_dir: Path) -> Iterator[tuple[RedisServer, dict[str, str]]]:
    """An embedded Redis and a SQLite database in `results_dir`, migrated, with the demo accounts:
    the Redis, and the environment that points the servers at both. The Redis stops at the end."""
    redis = RedisServer(results_dir)
    redis.start()
    try:
        env = base_environment(DATABASE_URL=f"sqlite:///{results_dir / 'bench.sqlite3'}", REDIS_URL=redis.url)
        migrate_and_seed(env, size=0)
        yield redis, env
    finally:
        redis.stop()


def sender_cookie(url: str, username: str = SENDER) -> str:
    session = logged_in_session(url, username)
    return f"sessionid={session.cookies['sessionid']}"


def raise_open_files_limit(sockets: int) -> int:
    """Each client is a socket of this process: raise the soft limit towards the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 2 * sockets + 256)) if hard != resource.RLIM_INFINITY else 2 * sockets + 256
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass(frozen=True)
class ProcessUsage:
    rss_mib: float
    open_files: int


def process_usage(pid: int) -> ProcessUsage:
    """Resident memory and open file descriptors of a process and its children (a start script's
    shell and the server it runs)."""
    processes = tree_processes(pid)
    if not processes:
        return ProcessUsage(0.0, 0)
    rss, files = 0, 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            rss += process.memory_info().rss
            files += process.num_fds()
    return ProcessUsage(round(rss / 2**20, 1), files)


def machine() -> dict[str, object]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average": load_average(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": package_versions(
            ["Django", "channels", "channels-redis", "uvicorn", "websockets", "redis"]
        ),
        "redis_server": redis_server_version(),
        "database": "SQLite (a file in the results folder)",
    }


def print_machine(about: dict[str, object]) -> None:
    print(f"Machine: {about['cpu']}, {about['cores']} cores, load {about['load_average']}", end="")
    print(f", Python {about['python']}")
    print(f"Versions: {about['versions']}; {about['redis_server']}")


# Clients ------------------------------------------------------------------------------------------


async def open_path(
    url: str, path: str, cookie: str | None = None, open_timeout: float = 30
) -> ClientConnection:
    """Open the WebSocket at `path` of the server at `url`, as a page of that server would."""
    return await connect(
        f"ws://{url.removeprefix('http://')}{path}",
        origin=Origin(url),
        additional_headers={"Cookie": cookie} if cookie else None,
        open_timeout=open_timeout,
        max_queue=None,  # never let the client's own buffer push back on the server
        compression=None,
        proxy=None,
    )


async def join(
    url: str, room: str, cookie: str | None = None, after: int | None = None, open_timeout: float = 30
) -> tuple[ClientConnection, list[dict]]:
    """Open a room's socket and read its first frames: the socket and the history's messages."""
    query = f"?after={after}" if after is not None else ""
    socket_ = await open_path(url, f"/ws/chat/{room}/{query}", cookie, open_timeout)
    history = json.loads(await socket_.recv())
    await socket_.recv()  # presence
    return socket_, history["messages"]


class Deliveries:
    """Every reader's receipts of the sender's messages, as latencies; `complete` is set once the
    expected number has arrived."""

    def __init__(self) -> None:
        self.sent_at: dict[str, float] = {}
        self.latencies: list[float] = []
        self.expected: int | None = None
        self.last_at = 0.0
        self.complete = asyncio.Event()

    def received(self, client_id: str, at: float) -> None:
        self.latencies.append(at - self.sent_at[client_id])
        self.last_at = at
        self.check()

    def expect(self, count: int) -> None:
        self.expected = count
        self.check()

    def check(self) -> None:
        if self.expected is not None and len(self.latencies) >= self.expected:
            self.complete.set()


async def read_deliveries(socket_: ClientConnection, deliveries: Deliveries) -> None:
    with contextlib.suppress(Exception):
        async for raw in socket_:
            received = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("type") == "message" and frame.get("client_id") in deliveries.sent_at:
                deliveries.received(frame["client_id"], received)


async def open_socket(url: str, room: str, cookie: str | None = None) -> ClientConnection:
    socket_, _ = await join(url, room, cookie)
    return socket_


async def paced(rate: float, duration: float) -> AsyncIterator[int]:
    """The numbers of `rate` x `duration` sends, each yielded at its time. An absolute schedule: a
    late send is not followed by an early one, so the rate holds."""
    interval = 1 / rate
    started = time.monotonic()
    for number in range(int(rate * duration)):
        await asyncio.sleep(max(0.0, started + number * interval - time.monotonic()))
        yield number


def latency_percentiles(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max of latencies in seconds, in milliseconds (zeros when there are none)."""
    if not latencies:
        return 0.0, 0.0, 0.0
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return round(1000 * statistics.median(ordered), 1), round(1000 * p99, 1), round(1000 * ordered[-1], 1)


async def open_readers(urls: list[str], room: str, count: int) -> list[ClientConnection]:
    """`count` anonymous readers of `room`, reader i on server i mod len(urls), at most
    CONNECT_CONCURRENCY handshakes at a time."""
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def reader(number: int) -> ClientConnection:
        async with semaphore:
            return await open_socket(urls[number % len(urls)], room)

    return await asyncio.gather(*(reader(number) for number in range(count)))

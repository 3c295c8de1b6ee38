"""Hostile runs: what one anonymous client can make a server hold. `make hostile` runs them.

frame-flood: for every ASGI server the project starts (deploy/start-asgi.sh, start-daphne.sh,
start-gunicorn-asgi.sh, start-granian.sh), one client opens a chat socket and sends one kind of
frame as fast as the server takes it, never reading a byte back, for `--duration` seconds: pings,
unsolicited pongs, text frames, binary frames, or a text message whose continuation fragments never
end. A server that answers each ping with a pong it cannot send, or reads frames faster than the
application takes them, keeps them in memory; one that stops reading pushes back to the client
through TCP instead. The figure is the growth of the server's resident memory (all its processes),
sampled every half second, against the 20 MB the project allows (docs/reliability.md).

    python -m loadtests.hostile                                   # every server, every frame, 60 s
    python -m loadtests.hostile --servers uvicorn --frames ping --duration 15
    python -m loadtests.hostile --duration 10 --env UVICORN_WS=auto --env GRANIAN_WEBSOCKETS=1 \
        --env DJANGO_WEBSOCKETS=1                               # the unbounded setups
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from loadtests.clients import RESULTS, machine, print_machine
from loadtests.lean_reader import frame, upgrade_request
from testbed.database import LiveDatabase
from testbed.environment import base_environment
from testbed.machine import package_versions
from testbed.processes import tree_total
from testbed.redis_server import RedisServer
from testbed.web import WebServer, daphne_server, granian_server, gunicorn_asgi_server, uvicorn_server

# What a worker may grow by under one flooding client, whatever the frames.
MAX_GROWTH_MB = 20.0
SAMPLE_SECONDS = 0.5
# Frames go out in batches this big: one sendall() per batch keeps the client's own cost low, so
# the server, not the client, is what the run measures.
BATCH_BYTES = 64 * 1024
CONTROL_PAYLOAD = b"p" * 125  # the largest a control frame may carry (RFC 6455, 5.5)
DATA_PAYLOAD = b'{"type": "message", "text": "' + b"x" * 950 + b'"}'
ROOM = "hostile"

OPCODES = {"continuation": 0x0, "text": 0x1, "binary": 0x2, "ping": 0x9, "pong": 0xA}
FRAMES = ["ping", "pong", "text", "binary", "continuation"]


def flood_batch(kind: str) -> tuple[bytes, bytes]:
    """What to send once after the handshake, and the batch to repeat."""
    if kind == "continuation":
        # One text message that never ends: a first fragment, then fragment after fragment.
        one = frame(OPCODES["continuation"], DATA_PAYLOAD, fin=False)
        return frame(OPCODES["text"], DATA_PAYLOAD, fin=False), one * (BATCH_BYTES // len(one))
    payload = CONTROL_PAYLOAD if kind in ("ping", "pong") else DATA_PAYLOAD
    one = frame(OPCODES[kind], payload)
    return b"", one * (BATCH_BYTES // len(one))


def open_socket(port: int, path: str) -> socket.socket:
    """A WebSocket handshake on a raw socket, which then is never read again."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(upgrade_request(f"127.0.0.1:{port}", path, key))
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)  # byte by byte: nothing after the head is read
            if not chunk:
                raise ConnectionError("the server closed the handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise ConnectionError(f"handshake refused: {status.decode(errors='replace')}")
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass
class FloodResult:
    server: str
    kind: str
    seconds: float
    baseline_mb: float
    peak_growth_mb: float
    end_growth_mb: float
    sent_mb: float
    connections: int
    closed_by_server: int

    @property
    def within_bound(self) -> bool:
        return self.peak_growth_mb < MAX_GROWTH_MB


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (a start script's server and its workers)."""
    return tree_total(pid, lambda process: process.memory_info().rss) / 2**20


class Flooder:
    """One client sending `kind` frames for `seconds`, reconnecting when the server closes it, as
    an attacker would."""

    def __init__(self, port: int, kind: str, seconds: float, path: str = f"/ws/chat/{ROOM}/"):
        self.port, self.kind, self.seconds, self.path = port, kind, seconds, path
        self.sent = 0
        self.connections = 0
        self.closed_by_server = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        first, batch = flood_batch(self.kind)
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            try:
                sock = open_socket(self.port, self.path)
            except (OSError, ConnectionError):
                time.sleep(0.1)
                continue
            self.connections += 1
            # A short send timeout: a server that stops reading blocks sendall(), and the deadline
            # must still be kept.
            sock.settimeout(0.5)
            try:
                if first:
                    sock.sendall(first)
                while time.monotonic() < deadline:
                    try:
                        sock.sendall(batch)
                        self.sent += len(batch)
                    except TimeoutError:
                        continue  # the server pushes back: exactly what it should do
            except OSError:
                self.closed_by_server += 1
            finally:
                sock.close()


def flood(
    server: WebServer, kind: str, seconds: float, on_sample: Callable[[float], None] | None = None
) -> FloodResult:
    """Flood `server` (started) with `kind` frames for `seconds`; its memory, sampled meanwhile."""
    pid = server.pid
    baseline = tree_rss_mb(pid)
    flooder = Flooder(server.port, kind, seconds)
    started = time.monotonic()
    flooder.thread.start()
    peak = baseline
    while flooder.thread.is_alive():
        time.sleep(SAMPLE_SECONDS)
        rss = tree_rss_mb(pid)
        peak = max(peak, rss)
        if on_sample is not None:
            on_sample(rss - baseline)
    flooder.thread.join()
    return FloodResult(
        server=server.name,
        kind=kind,
        seconds=round(time.monotonic() - started, 1),
        baseline_mb=round(baseline, 1),
        peak_growth_mb=round(peak - baseline, 1),
        end_growth_mb=round(tree_rss_mb(pid) - baseline, 1),
        sent_mb=round(flooder.sent / 2**20, 1),
        connections=flooder.connections,
        closed_by_server=flooder.closed_by_server,
    )


# The servers -------------------------------------------------------------------------------------

ServerFactory = Callable[[dict[str, str], Path], WebServer]
SERVERS: dict[str, ServerFactory] = {
    "uvicorn": lambda env, logs: uvicorn_server(env, logs, workers=1),
    "daphne": daphne_server,
    "gunicorn-asgi": lambda env, logs: gunicorn_asgi_server(env, logs, worker_class="asgi", workers=1),
    "granian": lambda env, logs: granian_server(env, logs, "asgi", workers=1),
}


@contextlib.contextmanager
def started(name: str, env: dict[str, str], logs: Path) -> Iterator[WebServer]:
    server = SERVERS[name](env, logs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: " + ", ".join(SERVERS))
    parser.add_argument("--frames", default=",".join(FRAMES), help="comma-separated: " + ", ".join(FRAMES))
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of flood per server and frame")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable for every server: UVICORN_WS=auto, GRANIAN_WEBSOCKETS=1 (the unbounded setups)",
    )
    args = parser.parse_args()
    servers = args.servers.split(",")
    kinds = args.frames.split(",")

    about = machine()
    print_machine(about)
    servers_versions = package_versions(["daphne", "Twisted", "autobahn", "gunicorn", "granian"])
    print(f"Servers: {servers_versions}")
    folder = RESULTS / "hostile"
    folder.mkdir(parents=True, exist_ok=True)
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    redis = RedisServer(logs)
    redis.start()
    database = LiveDatabase(folder)
    (folder / database.name).unlink(missing_ok=True)
    database.create()
    extra = dict(setting.split("=", 1) for setting in args.env)
    env = base_environment(DATABASE_URL=database.url, REDIS_URL=redis.url, **extra)
    if extra:
        print(f"Servers started with {extra}")
    results: list[FloodResult] = []
    try:
        for name in servers:
            for kind in kinds:
                # A fresh server per frame kind: what one flood left behind is not the next one's.
                with started(name, env, logs) as server:
                    result = flood(server, kind, args.duration)
                results.append(result)
                verdict = "ok" if result.within_bound else f"OVER {MAX_GROWTH_MB:g} MB"
                if not result.connections:
                    verdict += " (every handshake refused: WebSockets off)"
                print(
                    f"{name:14} {kind:13} {result.seconds:5.1f} s  baseline {result.baseline_mb:6.1f} MB  "
                    f"peak growth {result.peak_growth_mb:7.1f} MB  at end {result.end_growth_mb:7.1f} MB  "
                    f"sent {result.sent_mb:8.1f} MB  connections {result.connections:3}  {verdict}",
                    flush=True,
                )
    finally:
        redis.stop()
        database.drop()
    over = [result for result in results if not result.within_bound]
    print(
        f"\n{len(results) - len(over)} of {len(results)} floods stayed under {MAX_GROWTH_MB:g} MB of growth."
    )
    # Every server as its start script runs it: where no option bounds a server (Daphne, Gunicorn's
    # asgi worker, Granian), the script turns WebSockets off, so it too must stay under the bound.
    raise SystemExit(1 if over else 0)


if __name__ == "__main__":
    main()

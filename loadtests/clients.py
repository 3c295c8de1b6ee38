"""What the WebSocket benchmarks share: the servers they start, the machine they print, and clients
of the chat and of the report notifications that, like the pages' ResumableSocket, come back with
`?after=` when dropped.

`chat_fanout.py` (`make bench-chat`), `soak.py` (`make soak`) and `chaos.py` (`make chaos`) use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import psutil
import requests
from websockets.asyncio.client import ClientConnection, connect

from tests.servers import ROOT, WebServer, log_in, uvicorn_server

VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "loadtests" / "results"
# A demo account (seed_demo): only signed-in users may send.
SENDER = "alice"
# Handshakes opened at once while the readers join: enough to fill a room quickly, few enough not
# to measure a connection storm instead of the fan-out.
CONNECT_CONCURRENCY = 50
# How long a dropped client waits before it tries again, at most: the page draws a random delay
# too, so that a thousand clients dropped at once do not all come back in the same millisecond.
RECONNECT_DELAY_SECONDS = 1.0
# Resends at once: well inside the chat's burst of 10 frames, so they are not rate_limited.
RESEND_BATCH = 6


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


def sender_cookie(url: str, username: str = SENDER) -> str:
    session = requests.Session()
    log_in(session, url, username)
    return f"sessionid={session.cookies['sessionid']}"


def staff_session(url: str) -> requests.Session:
    from demo.seeding import DEMO_STAFF

    session = requests.Session()
    log_in(session, url, DEMO_STAFF)
    return session


def publish_report(session: requests.Session, url: str, slug: str = "revenue-by-month") -> bool:
    """Publish a report as the page's button does; True once the server has answered that it is
    stored (303), whether or not its live broadcast went out."""
    page = session.get(f"{url}/reports/{slug}/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{url}/reports/{slug}/publish/",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": f"{url}/reports/{slug}/"},
        allow_redirects=False,
        timeout=10,
    )
    return response.status_code == 303


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
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return ProcessUsage(0.0, 0)
    rss, files = 0, 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            rss += process.memory_info().rss
            files += process.num_fds()
    return ProcessUsage(round(rss / 2**20, 1), files)


def machine() -> dict[str, object]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown",
    )
    redis_server = subprocess.run(
        [str(VENV_BIN / "redis-server"), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {
            package: version(package)
            for package in ["Django", "channels", "channels-redis", "uvicorn", "websockets", "redis"]
        },
        "redis_server": redis_server,
        "database": "SQLite (a file in the results folder)",
    }


def print_machine(about: dict[str, object]) -> None:
    print(f"Machine: {about['cpu']}, {about['cores']} cores, load {about['load_average']}", end="")
    print(f", Python {about['python']}")
    print(f"Versions: {about['versions']}; {about['redis_server']}")


# Clients ------------------------------------------------------------------------------------------


async def join(
    url: str, room: str, cookie: str | None = None, after: int | None = None, open_timeout: float = 30
) -> tuple[ClientConnection, list[dict]]:
    """Open a room's socket and read its first frames: the socket and the history's messages."""
    query = f"?after={after}" if after is not None else ""
    socket_ = await connect(
        f"ws://{url.removeprefix('http://')}/ws/chat/{room}/{query}",
        origin=url,
        additional_headers={"Cookie": cookie} if cookie else None,
        open_timeout=open_timeout,
        max_queue=None,  # never let the client's own buffer push back on the server
        compression=None,
        proxy=None,
    )
    history = json.loads(await socket_.recv())
    await socket_.recv()  # presence
    return socket_, history["messages"]


class Deliveries:
    """Every reader's receipts of the sender's messages, as latencies; `complete` is set once the
    expected number has arrived."""

    def __init__(self):
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


@dataclass(eq=False)
class ResumingClient:
    """A chat client that reconnects after a drop with `?after=<highest id seen>`, as the page does,
    to the next server in `urls` when its own is gone (what a load balancer does).

    With a `cookie` it may also send: every send keeps its client_id until the server echoes the
    stored message back (the acknowledgement), and is resent under the same client_id after a
    reconnect, so a retry never stores a message twice.
    """

    urls: list[str]
    room: str
    cookie: str | None = None
    index: int = 0
    last_id: int | None = None
    # client_id -> the stored message's id, for every message this client has received.
    received: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)  # client_id -> text, not yet acknowledged
    acknowledged: dict[str, int] = field(default_factory=dict)
    connects: int = 0
    socket: ClientConnection | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, frame: dict) -> None:
        if frame.get("type") != "message":
            return
        self.last_id = max(self.last_id or 0, frame["id"])
        client_id = frame.get("client_id")
        if client_id is None:
            return
        if client_id not in self.received and client_id in self.sent_at:
            self.latencies.append(time.perf_counter() - self.sent_at[client_id])
        self.received[client_id] = frame["id"]
        if client_id in self.pending:
            del self.pending[client_id]
            self.acknowledged[client_id] = frame["id"]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            url = self.urls[self.index % len(self.urls)]
            try:
                self.socket, history = await join(url, self.room, self.cookie, self.last_id, open_timeout=10)
            except Exception:  # refused, reset, or the server is gone: try the next one later
                self.index += 1
                await asyncio.sleep(RECONNECT_DELAY_SECONDS * (0.5 + 0.5 * os.urandom(1)[0] / 255))
                continue
            self.connects += 1
            for frame in history:
                self.record(frame)
            self.connected.set()
            await self.resend_pending()
            with contextlib.suppress(Exception):
                async for raw in self.socket:
                    self.record(json.loads(raw))
            self.connected.clear()
            self.socket = None
            await asyncio.sleep(RECONNECT_DELAY_SECONDS * os.urandom(1)[0] / 255)

    async def send(self, text: str) -> None:
        client_id = f"chaos-{uuid.uuid4().hex}"
        self.pending[client_id] = text
        self.sent_at[client_id] = time.perf_counter()
        await self.try_send(client_id)

    async def resend_pending(self, at_most: int = RESEND_BATCH) -> None:
        """Resend the oldest unacknowledged sends; called on each reconnect and now and then, since
        a resend the flood guard answered with rate_limited stays pending."""
        for client_id in list(self.pending)[:at_most]:
            await self.try_send(client_id)

    async def try_send(self, client_id: str) -> None:
        if self.socket is None or client_id not in self.pending:
            return
        frame = {"type": "message", "text": self.pending[client_id], "client_id": client_id}
        with contextlib.suppress(Exception):  # dropped: resent after the reconnect
            await self.socket.send(json.dumps(frame))

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close()


async def stored_client_ids(url: str, room: str) -> dict[str, int]:
    """Every message stored in `room`, read back from the database by a fresh client: client_id
    -> id. The history gives the first 500 after `?after=0`; the rest follow as message frames."""
    reader = ResumingClient([url], room)
    socket_, history = await join(url, room, after=0)
    for frame in history:
        reader.record(frame)
    with contextlib.suppress(TimeoutError):
        while True:
            reader.record(json.loads(await asyncio.wait_for(socket_.recv(), 2)))
    await socket_.close()
    return reader.received


@dataclass(eq=False)
class ResumingNotifications:
    """A /ws/notifications/ client that reconnects with `?after=<highest publication id seen>`."""

    urls: list[str]
    index: int = 0
    last_id: int = 0
    received: set[int] = field(default_factory=set)
    connects: int = 0
    socket: ClientConnection | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            url = self.urls[self.index % len(self.urls)]
            try:
                self.socket = await connect(
                    f"ws://{url.removeprefix('http://')}/ws/notifications/?after={self.last_id}",
                    origin=url,
                    open_timeout=10,
                    proxy=None,
                )
            except Exception:
                self.index += 1
                await asyncio.sleep(RECONNECT_DELAY_SECONDS * (0.5 + 0.5 * os.urandom(1)[0] / 255))
                continue
            self.connects += 1
            self.connected.set()
            with contextlib.suppress(Exception):
                async for raw in self.socket:
                    frame = json.loads(raw)
                    if frame.get("type") == "report.published":
                        self.received.add(frame["id"])
                        self.last_id = max(self.last_id, frame["id"])
            self.connected.clear()
            self.socket = None
            await asyncio.sleep(RECONNECT_DELAY_SECONDS * os.urandom(1)[0] / 255)

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await self.socket.close()


async def stored_publication_ids(url: str, after: int = 0) -> set[int]:
    """The publications stored after `after`, read back from the database by a fresh client."""
    ids: set[int] = set()
    async with connect(
        f"ws://{url.removeprefix('http://')}/ws/notifications/?after={after}", origin=url, proxy=None
    ) as socket_:
        with contextlib.suppress(TimeoutError):
            while True:
                ids.add(json.loads(await asyncio.wait_for(socket_.recv(), 2))["id"])
    return ids

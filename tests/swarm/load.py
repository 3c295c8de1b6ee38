"""Traffic to hold a swarm to while it changes under it: steady HTTP requests through nginx, and a
crowd of chat clients that post and, when dropped, come back with `?after=` as the pages do
(loadtests/resuming.py)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from loadtests.clients import raise_open_files_limit
from loadtests.resuming import ResumingClient, stored_client_ids

SERVED_HOST = re.compile(r'data-testid="host">([^<]+)<')


@dataclass
class HttpOutcome:
    ok: int = 0
    failures: Counter = field(default_factory=Counter)  # "502", "ReadTimeout", ...
    # The container (its host name) behind each response, in order.
    hosts: list[str] = field(default_factory=list)
    slowest_seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def summary(self) -> str:
        return (
            f"{self.ok} requests answered 200, {self.failed} failed {dict(self.failures)}, "
            f"slowest {self.slowest_seconds:.2f} s, served by {len(set(self.hosts))} containers"
        )


class SteadyHttpLoad:
    """`connections` keep-alive clients, each asking for the home page (the WSGI stack) as soon as
    its last answer is in, until stopped. A failure is anything but a 200 in time."""

    def __init__(self, url: str, connections: int = 4):
        self.url = url
        self.connections = connections
        self.outcome = HttpOutcome()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(connections)]

    @staticmethod
    def host_of(html: str) -> str | None:
        match = SERVED_HOST.search(html)
        return match.group(1) if match else None

    def __enter__(self) -> SteadyHttpLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _client(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                response = session.get(f"{self.url}/", timeout=30)
            except requests.RequestException as error:
                self._record(type(error).__name__, None, started)
                continue
            host = self.host_of(response.text) if response.status_code == 200 else None
            self._record(None if response.status_code == 200 else str(response.status_code), host, started)
        session.close()

    def _record(self, failure: str | None, host: str | None, started: float) -> None:
        with self._lock:
            self.outcome.slowest_seconds = max(self.outcome.slowest_seconds, time.monotonic() - started)
            if failure is None:
                self.outcome.ok += 1
            else:
                self.outcome.failures[failure] += 1
            if host is not None:
                self.outcome.hosts.append(host)


@dataclass
class ChatOutcome:
    clients: int
    rooms: int
    sent: int = 0
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0  # acknowledged, yet not in the database
    unacknowledged: int = 0  # still unanswered after the drain
    missing: int = 0  # stored, yet never received, summed over the clients of each room
    reconnected_clients: int = 0  # clients that were dropped and came back at least once
    reconnects: int = 0
    connected_at_end: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # how long each phase took

    def summary(self) -> str:
        return (
            f"{self.clients} chat clients in {self.rooms} rooms: sent {self.sent}, acknowledged "
            f"{self.acknowledged}, stored {self.stored}, lost {self.lost}, unacknowledged "
            f"{self.unacknowledged}, missing {self.missing}; {self.reconnected_clients} clients "
            f"dropped and back with ?after= ({self.reconnects} reconnects), "
            f"{self.connected_at_end} connected at the end; seconds: "
            + ", ".join(f"{phase} {seconds:.0f}" for phase, seconds in self.seconds.items())
        )


# Each client posts once every this many seconds: 200 clients make 20 messages a second, each
# stored in PostgreSQL and sent to the other clients of its room.
POST_PERIOD_SECONDS = 10.0
# After the last post, how long the clients get to have everything acknowledged and caught up.
DRAIN_SECONDS = 90.0


async def chat_through(
    url: str, cookie: str, fault: Callable[[], None], clients: int = 200, rooms: int = 20
) -> ChatOutcome:
    """Put `clients` signed-in chat clients in `rooms` rooms through nginx at `url`, have each post
    steadily while `fault` runs (in a thread), then drain and count."""
    raise_open_files_limit(clients + 50)
    outcome = ChatOutcome(clients, rooms)
    names = [f"swarm-{number}-{time.monotonic_ns() % 10**8}" for number in range(rooms)]
    crowd = [ResumingClient([url], names[number % rooms], cookie) for number in range(clients)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client.run(stop)) for client in crowd]
    phase_started = time.monotonic()

    def phase(name: str) -> None:
        nonlocal phase_started
        outcome.seconds[name] = time.monotonic() - phase_started
        phase_started = time.monotonic()

    try:
        await asyncio.wait_for(asyncio.gather(*(client.connected.wait() for client in crowd)), 120)
        phase("joining")
        for client in crowd:
            client.connects = 1  # count the drops from here on

        fault_done = asyncio.Event()

        async def post_until_done() -> None:
            number = 0
            started = time.monotonic()
            finished_at = None
            while finished_at is None or time.monotonic() < finished_at + 2:
                client = crowd[number % clients]
                await client.send(f"swarm #{number}")
                if number % clients == 0:
                    for each in crowd:
                        await each.resend_pending(at_most=2)
                number += 1
                await asyncio.sleep(
                    max(0.0, started + number * POST_PERIOD_SECONDS / clients - time.monotonic())
                )
                if finished_at is None and fault_done.is_set():
                    finished_at = time.monotonic()
            outcome.sent = number

        async def run_fault() -> None:
            await asyncio.sleep(2)  # some traffic first
            await asyncio.to_thread(fault)
            fault_done.set()

        await asyncio.gather(post_until_done(), run_fault())
        phase("posting through the change")

        deadline = time.monotonic() + DRAIN_SECONDS
        while any(client.pending for client in crowd) and time.monotonic() < deadline:
            for client in crowd:
                # Two a second per client stays under the chat's rate limit (5 a second).
                await client.resend_pending(at_most=2)
            await asyncio.sleep(1)
        # Each read ends after 2 s of silence: read the rooms at once, not one after another.
        rooms_read = await asyncio.gather(*(stored_client_ids(url, name) for name in names))
        stored = dict(zip(names, rooms_read, strict=True))

        def caught_up() -> bool:
            return all(
                client.connected.is_set() and set(stored[client.room]) <= set(client.received)
                for client in crowd
            )

        while not caught_up() and time.monotonic() < deadline:  # noqa: ASYNC110 (many clients' state)
            await asyncio.sleep(0.5)
        outcome.connected_at_end = sum(1 for client in crowd if client.connected.is_set())
        phase("draining")
    finally:
        stop.set()
        await asyncio.gather(*(client.close() for client in crowd))
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)

    acknowledged = {client_id for client in crowd for client_id in client.acknowledged}
    stored_ids = {client_id for room in stored.values() for client_id in room}
    outcome.acknowledged = len(acknowledged)
    outcome.stored = len(stored_ids)
    outcome.lost = len(acknowledged - stored_ids)
    outcome.unacknowledged = sum(len(client.pending) for client in crowd)
    outcome.missing = sum(len(set(stored[client.room]) - set(client.received)) for client in crowd)
    outcome.reconnected_clients = sum(1 for client in crowd if client.connects > 1)
    outcome.reconnects = sum(client.connects - 1 for client in crowd)
    return outcome

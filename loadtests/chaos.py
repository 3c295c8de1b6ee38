"""Chaos runs: faults under chat and report traffic, counted end to end. `make chaos` runs them.

Each scenario starts Gunicorn (WSGI) and two Uvicorn processes (ASGI) on one SQLite database, puts
a signed-in sender, readers and notification clients on the two Uvicorns (every client reconnects
with `?after=` when dropped, as the pages do), publishes a report through Gunicorn every couple of
seconds, and injects one fault halfway:

- redis-restart: SIGKILL the Redis, start it again three seconds later (empty).
- sentinel-failover: one primary, one replica, three sentinels; SIGKILL the primary and wait for
  the sentinels to promote the replica. The project's processes find the new master by themselves.
- sigterm-asgi: SIGTERM the Uvicorn that serves the sender; its clients go to the other one.
- drop-mid-delivery: no fault but the clients: 1,000 readers (--dropped-clients) drop while events
  flow into their room, half closing, half resetting; it counts the Pub/Sub subscriptions in Redis
  before and after (loadtests/dropped_clients.py).
- handshakes-after-restart: SIGKILL the Redis and start it again; once /readyz says ok, 200 fresh
  chat handshakes (--handshakes), counted accepted or refused (loadtests/restart_handshakes.py).

It prints, for the chat, messages acknowledged (the server echoed the stored message) vs stored vs
delivered to every reader, and the same for report publications. "lost" counts acknowledged
messages that were not stored; "missing" counts stored ones a client never got.

    python -m loadtests.chaos                                   # every scenario
    python -m loadtests.chaos --scenarios sentinel-failover --readers 20 --duration 20
    python -m loadtests.chaos --layer RedisChannelLayer
    python -m loadtests.chaos --scenarios drop-mid-delivery --dropped-clients 300
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loadtests import dropped_clients, restart_handshakes
from loadtests.clients import (
    RESULTS,
    machine,
    print_machine,
    raise_open_files_limit,
    sender_cookie,
    start_uvicorns,
)
from loadtests.dropped_clients import DropOutcome
from loadtests.redis_sentinel import SentinelCluster
from loadtests.restart_handshakes import HandshakeOutcome
from loadtests.resuming import (
    ResumingClient,
    ResumingNotifications,
    publish_report,
    staff_session,
    stored_client_ids,
    stored_publication_ids,
)
from testbed.database import migrate_and_seed
from testbed.environment import base_environment
from testbed.redis_server import RedisServer
from testbed.web import WebServer, gunicorn_server

SCENARIOS = [
    "redis-restart",
    "sentinel-failover",
    "sigterm-asgi",
    "drop-mid-delivery",
    "handshakes-after-restart",
]
# Scenarios without the chat and report traffic of the others: their clients are the test.
CLIENT_SCENARIOS = {"drop-mid-delivery", "handshakes-after-restart"}
LAYERS = ["RedisPubSubChannelLayer", "RedisChannelLayer"]
DEFAULT_LAYER = "RedisPubSubChannelLayer"  # the project's default (myproject/settings.py)
Action = Callable[[], None]
# Redis stays away this long in redis-restart: longer than the watch and heartbeat take to notice.
REDIS_OUTAGE_SECONDS = 3.0
FAILOVER_TIMEOUT_SECONDS = 30.0
PUBLISH_INTERVAL_SECONDS = 2.0
# After the last send, how long the clients get to reconnect and catch up before a gap counts.
DRAIN_SECONDS = 30.0
# Short, so that the presence of a process that died expires within seconds.
PRESENCE_TTL_SECONDS = "3"
# drop-mid-delivery's readers joining at once.
DROP_WAVE = 100


@dataclass
class Outcome:
    scenario: str
    readers: int
    notification_clients: int
    sent: int = 0
    acknowledged: int = 0
    acknowledged_after_fault: int = 0
    stored: int = 0
    lost: int = 0
    missing: int = 0
    reconnects: int = 0
    published: int = 0
    publications_stored: int = 0
    publications_after_fault: int = 0
    publications_missing: int = 0
    fault_seconds: float = 0.0
    unhandled_errors: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Stack:
    """The processes of one scenario; `fault` breaks something and returns once it has healed."""

    wsgi: WebServer
    asgi: list[WebServer]
    fault: Callable[[], None]
    stop: Callable[[], None]

    def unhandled_errors(self) -> int:
        """Exceptions the servers did not handle (each one a client that saw a 500 or a 1006), as
        Uvicorn, Gunicorn and Django log them."""
        markers = ("Exception in ASGI application", "Error handling request", "Internal Server Error:")
        return sum(server.log().count(marker) for server in [self.wsgi, *self.asgi] for marker in markers)


def start_redis(
    scenario: str, log_dir: Path
) -> tuple[dict[str, str], Callable[[], None], Callable[[], None]]:
    """The Redis side of a scenario: the environment that points the stacks at it, the Redis fault
    (returning once healed) and how to stop it all."""
    if scenario == "sentinel-failover":
        cluster = SentinelCluster(log_dir)
        cluster.start()

        def fail_over() -> None:
            cluster.kill_primary()
            cluster.wait_for_failover(FAILOVER_TIMEOUT_SECONDS)

        return cluster.environment, fail_over, cluster.stop
    redis = RedisServer(log_dir)
    redis.start()

    def kill_and_restart() -> None:
        redis.stop(signal.SIGKILL)
        time.sleep(REDIS_OUTAGE_SECONDS)
        redis.start()

    def stop() -> None:
        redis.stop()

    return {"REDIS_URL": redis.url}, kill_and_restart, stop


def start_stack(scenario: str, log_dir: Path, database_url: str, layer: str = DEFAULT_LAYER) -> Stack:
    redis_env, redis_fault, stop_redis = start_redis(scenario, log_dir)
    env = base_environment(
        DATABASE_URL=database_url,
        CHAT_PRESENCE_TTL_SECONDS=PRESENCE_TTL_SECONDS,
        REDIS_CHANNEL_LAYER=layer,
        **redis_env,
    )
    for name in ("REDIS_URL", "REDIS_SENTINELS"):
        if name not in redis_env:
            env.pop(name, None)
    wsgi = gunicorn_server(env, log_dir)
    processes: list[WebServer] = [wsgi]
    try:
        wsgi.start()
        asgi = start_uvicorns(env, log_dir)
        processes += asgi
    except BaseException:
        for process in processes:
            process.stop()
        stop_redis()
        raise

    def fault() -> None:
        if scenario == "sigterm-asgi":
            asgi[0].stop(signal.SIGTERM)
        else:
            redis_fault()

    def stop() -> None:
        for process in processes:
            process.stop()
        stop_redis()

    return Stack(wsgi, asgi, fault, stop)


async def run_scenario(
    stack: Stack, scenario: str, readers: int, notification_clients: int, rate: float, duration: float
) -> Outcome:
    outcome = Outcome(scenario, readers, notification_clients)
    urls = [server.url for server in stack.asgi]
    room = f"chaos-{uuid.uuid4().hex[:8]}"
    cookie = await asyncio.to_thread(sender_cookie, urls[0])
    session = await asyncio.to_thread(staff_session, stack.wsgi.url)
    baseline = max(await stored_publication_ids(urls[0]), default=0)

    stop = asyncio.Event()
    sender = ResumingClient(urls, room, cookie)
    chat = [ResumingClient(urls, room, index=number) for number in range(readers)]
    watchers = [ResumingNotifications(urls, index=n, last_id=baseline) for n in range(notification_clients)]
    for reader in chat:
        reader.sent_at = sender.sent_at
    clients: list[ResumingClient | ResumingNotifications] = [sender, *chat, *watchers]
    tasks = [asyncio.create_task(client.run(stop)) for client in clients]
    await asyncio.wait_for(asyncio.gather(*(client.connected.wait() for client in clients)), 60)

    fault_done = threading.Event()
    fault_started = time.perf_counter()
    fault_thread = None

    def inject_fault() -> None:
        stack.fault()
        outcome.fault_seconds = round(time.perf_counter() - fault_started, 1)
        fault_done.set()

    published_after_fault: list[bool] = []
    started = time.perf_counter()
    number = 0
    next_publish = started
    while time.perf_counter() - started < duration:
        now = time.perf_counter()
        if fault_thread is None and now - started >= duration / 2:
            fault_started = now
            fault_thread = threading.Thread(target=inject_fault, daemon=True)
            fault_thread.start()
        if now >= next_publish:
            next_publish += PUBLISH_INTERVAL_SECONDS
            healed = fault_done.is_set()
            accepted = await asyncio.to_thread(publish_report, session, stack.wsgi.url)
            outcome.published += accepted
            if healed:
                published_after_fault.append(accepted)
        await sender.send(f"chaos #{number}")
        number += 1
        if number % 4 == 0:
            await sender.resend_pending()
        await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
    outcome.sent = number
    if fault_thread is not None:
        await asyncio.to_thread(fault_thread.join, FAILOVER_TIMEOUT_SECONDS + 10)
        if not fault_done.is_set():
            outcome.notes.append("the fault did not heal in time")
    outcome.publications_after_fault = sum(published_after_fault)

    # Drain: the sender resends until everything is acknowledged; then every client must have
    # every stored message and publication.
    deadline = time.perf_counter() + DRAIN_SECONDS
    while sender.pending and time.perf_counter() < deadline:
        await sender.resend_pending()
        await asyncio.sleep(1)
    surviving = [server.url for server in stack.asgi if server.running()]
    stored = await stored_client_ids(surviving[-1], room)
    publications = await stored_publication_ids(surviving[-1], baseline)
    readers_all = [sender, *chat]

    def caught_up() -> bool:
        return all(set(stored) <= set(reader.received) for reader in readers_all) and all(
            publications <= watcher.received for watcher in watchers
        )

    for _ in range(int(max(0.0, deadline - time.perf_counter()) / 0.5)):
        if caught_up():
            break
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*(client.close() for client in clients))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    outcome.acknowledged = len(sender.acknowledged)
    outcome.acknowledged_after_fault = sum(
        1 for client_id in sender.acknowledged if sender.sent_at[client_id] >= fault_started
    )
    outcome.stored = len(stored)
    outcome.lost = len(set(sender.acknowledged) - set(stored))
    outcome.missing = sum(len(set(stored) - set(reader.received)) for reader in readers_all)
    outcome.reconnects = sum(client.connects - 1 for client in clients)
    outcome.publications_stored = len(publications)
    outcome.publications_missing = sum(len(publications - watcher.received) for watcher in watchers)
    outcome.unhandled_errors = stack.unhandled_errors()
    return outcome


def print_outcome(outcome: Outcome) -> None:
    print(
        f"  {outcome.scenario:<18} chat: sent {outcome.sent}, acknowledged {outcome.acknowledged}"
        f" ({outcome.acknowledged_after_fault} after the fault), stored {outcome.stored},"
        f" lost {outcome.lost}, missing {outcome.missing} over {outcome.readers + 1} clients"
        f" | reports: acknowledged {outcome.published} ({outcome.publications_after_fault} after healing),"
        f" stored {outcome.publications_stored}, missing {outcome.publications_missing}"
        f" over {outcome.notification_clients} clients"
        f" | reconnects {outcome.reconnects} | fault to healed {outcome.fault_seconds:g} s"
        f" | unhandled server errors {outcome.unhandled_errors}"
        + (f" | {'; '.join(outcome.notes)}" if outcome.notes else ""),
        flush=True,
    )


def run_client_scenario(
    stack: Stack, scenario: str, options: argparse.Namespace
) -> tuple[DropOutcome | HandshakeOutcome, str]:
    """The scenarios whose clients are the fault, or its measure: their outcome and its line."""
    urls = [server.url for server in stack.asgi]
    if scenario == "drop-mid-delivery":
        redis_url = stack.wsgi.env["REDIS_URL"]
        dropped = asyncio.run(
            dropped_clients.drop_mid_delivery(urls, redis_url, options.dropped_clients, DROP_WAVE)
        )
        return dropped, dropped_clients.describe(dropped)
    cookie = sender_cookie(urls[0])
    counted = asyncio.run(
        restart_handshakes.handshakes_after_restart(urls, cookie, stack.fault, options.handshakes)
    )
    return counted, restart_handshakes.describe(counted)


def main(arguments: list[str] | None = None) -> list[Outcome | DropOutcome | HandshakeOutcome]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=SCENARIOS)
    parser.add_argument("--layer", choices=LAYERS, default=DEFAULT_LAYER, help="the channel layer")
    parser.add_argument("--readers", type=int, default=20, help="chat readers besides the sender")
    parser.add_argument("--notification-clients", type=int, default=10)
    parser.add_argument("--rate", type=float, default=2.0, help="chat messages per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of traffic; the fault at half")
    parser.add_argument("--dropped-clients", type=int, default=1000, help="drop-mid-delivery's readers")
    parser.add_argument("--handshakes", type=int, default=200, help="handshakes-after-restart's count")
    options = parser.parse_args(arguments)
    raise_open_files_limit(max(options.readers + options.notification_clients + 1, 2 * DROP_WAVE))

    results_dir = RESULTS / f"chaos-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"
    results_dir.mkdir(parents=True)
    print_machine(machine())
    print(
        f"{options.layer}; Gunicorn + two Uvicorn processes; {options.readers} readers and one sender"
        f" at {options.rate:g} msg/s, {options.notification_clients} notification clients,"
        f" a publication every {PUBLISH_INTERVAL_SECONDS:g} s,"
        f" {options.duration:g} s each, the fault at half time\n",
        flush=True,
    )
    database_url = f"sqlite:///{results_dir / 'chaos.sqlite3'}"
    env = base_environment(DATABASE_URL=database_url)
    migrate_and_seed(env, size=0)
    outcomes: list[Outcome | DropOutcome | HandshakeOutcome] = []
    for scenario in options.scenarios:
        stack = start_stack(scenario, results_dir, database_url, options.layer)
        if scenario in CLIENT_SCENARIOS:
            try:
                counted, line = run_client_scenario(stack, scenario, options)
            finally:
                stack.stop()
            print(f"  {scenario:<18} {line}", flush=True)
            outcomes.append(counted)
            continue
        try:
            outcome = asyncio.run(
                run_scenario(
                    stack,
                    scenario,
                    options.readers,
                    options.notification_clients,
                    options.rate,
                    options.duration,
                )
            )
        finally:
            stack.stop()
        print_outcome(outcome)
        outcomes.append(outcome)
    print(f"\nServer logs: {results_dir.relative_to(RESULTS.parent.parent)}/")
    return outcomes


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()

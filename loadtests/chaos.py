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

This module is the command and its loop over the scenarios; chaos_stack.py starts a scenario's
processes and holds its fault, chaos_traffic.py runs the traffic and counts what arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid

from loadtests import dropped_clients, restart_handshakes
from loadtests.chaos_stack import DEFAULT_LAYER, Stack, start_stack
from loadtests.chaos_traffic import PUBLISH_INTERVAL_SECONDS, Outcome, print_outcome, run_scenario
from loadtests.clients import RESULTS, machine, print_machine, raise_open_files_limit, sender_cookie
from loadtests.dropped_clients import DropOutcome
from loadtests.restart_handshakes import HandshakeOutcome
from testbed.database import migrate_and_seed
from testbed.environment import base_environment

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
# drop-mid-delivery's readers joining at once.
DROP_WAVE = 100


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

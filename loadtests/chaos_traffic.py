"""A chaos scenario under chat and report traffic (`make chaos`, loadtests/chaos.py): a signed-in
sender, readers and notification clients that resume as the pages do, a report published through
Gunicorn every couple of seconds, the fault at half time, and what was acknowledged, stored and
delivered on each side.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field

from loadtests.chaos_stack import FAILOVER_TIMEOUT_SECONDS, Stack
from loadtests.clients import sender_cookie
from loadtests.resuming import (
    ResumingClient,
    ResumingNotifications,
    publish_report,
    staff_session,
    stored_client_ids,
    stored_publication_ids,
)

PUBLISH_INTERVAL_SECONDS = 2.0
# After the last send, how long the clients get to reconnect and catch up before a gap counts.
DRAIN_SECONDS = 30.0


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

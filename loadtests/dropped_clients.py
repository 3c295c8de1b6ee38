"""Clients that drop mid-delivery, and the Pub/Sub subscriptions they leave behind in Redis.

With the Pub/Sub channel layer each WebSocket consumer subscribes to a channel of its own
(`asgispecific.<hex>`) and each process to the groups its consumers joined. When a client leaves,
both must go. This run keeps events flowing into one chat room (published from this process through
the channel layer, as a Gunicorn worker publishes), opens readers in waves, lets each read a couple
of events and then drops it while the next ones are on their way: every other one closes normally,
the rest reset the TCP connection. It counts the subscriptions before and after.
`make chaos` runs it as the drop-mid-delivery scenario; tests/myproject/test_consumer_channels.py
runs a smaller one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import redis.asyncio as redis
from channels_redis.pubsub import RedisPubSubChannelLayer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

# Every consumer's own channel under the Pub/Sub layer: the layer's prefix "asgi" and Channels'
# "specific." (channels_redis/pubsub.py, new_channel).
SPECIFIC_CHANNELS = "asgispecific.*"
# Events a reader reads before it drops, so that it drops while deliveries flow.
EVENTS_BEFORE_DROP = 2
# How long the servers get to notice the last drops before the subscriptions are counted.
SETTLE_SECONDS = 15.0
# A presence version above any a room's clock gives (its versions start at the time in ms), so
# every consumer relays every event of the flow to its client.
FLOW_VERSIONS_FROM = 2**53


@dataclass
class DropOutcome:
    clients: int
    closed: int = 0
    reset: int = 0
    failed_to_join: int = 0
    events_published: int = 0
    specific_before: int = 0
    specific_after: int = 0
    group_subscribers_after: int = 0
    seconds: float = 0.0
    left_over: list[str] = field(default_factory=list)

    @property
    def leaked(self) -> int:
        return self.specific_after - self.specific_before


async def specific_channels(client: redis.Redis) -> set[str]:
    names = await client.pubsub_channels(SPECIFIC_CHANNELS)
    return {name.decode() if isinstance(name, bytes) else name for name in names}


async def group_subscribers(client: redis.Redis, room: str) -> int:
    # The Pub/Sub layer's name for the chat's group (chat/protocol.py room_group).
    [(_, count)] = await client.pubsub_numsub(f"asgi__group__chat.{room}")
    return int(count)


def _urls(urls: list[str]) -> Iterator[str]:
    while True:
        yield from urls


async def publish_flow(layer: RedisPubSubChannelLayer, room: str, rate: float, stop: asyncio.Event) -> int:
    """chat.presence events (chat/protocol.py presence_event) into the room until `stop`."""
    published = 0
    started = time.perf_counter()
    while not stop.is_set():
        event = {"type": "chat.presence", "version": FLOW_VERSIONS_FROM + published, "users": []}
        await layer.group_send(f"chat.{room}", event)
        published += 1
        await asyncio.sleep(max(0.0, started + published / rate - time.perf_counter()))
    return published


def reset(socket_: ClientConnection) -> None:
    """Drop the connection with a TCP reset: no close frame, no FIN."""
    raw = socket_.transport.get_extra_info("socket")
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    socket_.transport.abort()


async def read_then_drop(url: str, room: str, number: int, outcome: DropOutcome) -> None:
    try:
        socket_ = await connect(
            f"ws://{url.removeprefix('http://')}/ws/chat/{room}/",
            origin=Origin(url),
            open_timeout=30,
            compression=None,
            proxy=None,
        )
        seen = 0
        while seen < EVENTS_BEFORE_DROP:
            frame = await asyncio.wait_for(socket_.recv(), 30)
            seen += '"presence"' in frame
    except (OSError, TimeoutError, ConnectionClosed) as error:
        outcome.failed_to_join += 1
        outcome.left_over.append(f"client {number}: {error!r}")
        return
    if number % 2:
        reset(socket_)
        outcome.reset += 1
    else:
        await socket_.close()
        outcome.closed += 1


async def drop_mid_delivery(
    urls: list[str], redis_url: str, clients: int, wave: int = 100, rate: float = 50.0
) -> DropOutcome:
    """`clients` readers over the servers at `urls`, `wave` at a time, each dropped mid-delivery
    while `rate` events a second flow into their room; the subscriptions counted before and after."""
    outcome = DropOutcome(clients)
    room = f"drop-{uuid.uuid4().hex[:8]}"
    counter = redis.Redis.from_url(redis_url)
    layer = RedisPubSubChannelLayer(hosts=[redis_url])
    started = time.perf_counter()
    try:
        outcome.specific_before = len(await specific_channels(counter))
        stop = asyncio.Event()
        flow = asyncio.create_task(publish_flow(layer, room, rate, stop))
        servers = _urls(urls)
        for first in range(0, clients, wave):
            numbers = range(first, min(clients, first + wave))
            await asyncio.gather(*(read_then_drop(next(servers), room, n, outcome) for n in numbers))
        stop.set()
        outcome.events_published = await flow
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            outcome.specific_after = len(await specific_channels(counter))
            outcome.group_subscribers_after = await group_subscribers(counter, room)
            if outcome.leaked <= 0 and outcome.group_subscribers_after == 0:
                break
            await asyncio.sleep(0.5)
    finally:
        with contextlib.suppress(Exception):
            await layer.flush()
        await counter.aclose()
    outcome.seconds = round(time.perf_counter() - started, 1)
    return outcome


def describe(outcome: DropOutcome) -> str:
    return (
        f"{outcome.clients} clients dropped mid-delivery ({outcome.closed} closed, {outcome.reset} reset,"
        f" {outcome.failed_to_join} failed to join) while {outcome.events_published} events flowed,"
        f" {outcome.seconds:g} s | asgispecific.* subscriptions: {outcome.specific_before} before,"
        f" {outcome.specific_after} after ({max(0, outcome.leaked)} leaked)"
        f" | the room's group subscribers after: {outcome.group_subscribers_after}"
    )

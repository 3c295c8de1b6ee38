"""Giving back a consumer's own channel when its connection ends.

Channels gives every consumer a channel of its own (`new_channel()`), and has no call that gives it
back. channels-redis's RedisPubSubChannelLayer subscribes to that channel in Redis when it is made
and unsubscribes only when a `receive()` on it is *cancelled while it waits*: it assumes a consumer
ends that way. It often does not. Channels' `await_many_dispatch` keeps one receive task on the
channel, and when the connection ends while that task has just taken a message off the queue (the
client left mid-delivery: the send failed, or its `websocket.disconnect` came in the same turn) the
task is already done, cancelling it does nothing, and the subscription stays in Redis, with its
queue in this process, until the process exits. docs/reliability.md has the figures and the report
for channels-redis.

The work-around uses the layer's own clean-up: receive on the channel once more and cancel that
receive while it waits. A message still queued there is returned instead; the client has gone, so it
is dropped and the next receive waits.
"""

from __future__ import annotations

import asyncio
import contextlib

from channels.layers import BaseChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer


async def give_back_channel(layer: BaseChannelLayer | None, channel_name: str | None) -> None:
    """Unsubscribe `channel_name` if the Pub/Sub layer still holds it; never raises for Redis.

    Other layers need nothing: RedisChannelLayer's channels of one process share one Redis list,
    whose messages expire, and the in-memory layer expires its own.
    """
    if not isinstance(layer, RedisPubSubChannelLayer) or channel_name is None:
        return
    # `channels`: the Pub/Sub layer's map of this event loop's subscribed channels to their queues.
    # receive() takes the channel out of it before it unsubscribes (and logs, without raising, an
    # unsubscribe that fails), so each pass either drops a queued message or ends the loop.
    while channel_name in layer.channels:
        with contextlib.suppress(TimeoutError):
            # A deadline already passed: the receive is cancelled as soon as it waits.
            async with asyncio.timeout(0):
                await layer.receive(channel_name)

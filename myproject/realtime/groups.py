"""A group's messages received once per process, and handed to that process's consumers directly.

Channels' way is one channel per consumer: `group_add(group, self.channel_name)` for each, so a
message to a room of 5,000 readers spread over two processes is put on 5,000 queues (the Pub/Sub
layer) or 5,000 Redis lists (RedisChannelLayer), and taken off, decoded and dispatched by 5,000
receive tasks. Here a process joins the group once, with a channel of its own (`GroupFeed`), receives
and decodes each message once, and offers the one event object to each of its consumers
(`Dispatcher.offer`): handled on the spot when the consumer is idle, queued in order when it is busy.
The handlers, their order and the consumer's one-at-a-time rule are Channels'; only the way in is
shorter. Handlers must treat the event as read-only: every consumer of the process is given the same
object.

The last consumer of a group in a process takes the process's channel out of the group. `group_send`
is unchanged: any code, in any process, reaches the group as before. A consumer whose events all come
this way needs no channel of its own (`RealtimeConsumer.own_channel`): the chat's has none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from channels.layers import BaseChannelLayer

from myproject.consumer_channels import give_back_channel
from myproject.realtime.dispatch import Dispatcher
from myproject.realtime.layer import LAYER_ERRORS, LAYER_TIMEOUT_SECONDS
from myproject.realtime.per_event_loop import PerEventLoop

logger = logging.getLogger(__name__)


class GroupFeed:
    """One group in one process: its channel in the group, the task receiving on it, the consumers."""

    def __init__(self, layer: BaseChannelLayer, group: str, lost: Callable[[GroupFeed], None]) -> None:
        self.layer = layer
        self.group = group
        self.lost = lost  # told when the feed lost its channel
        self.members: dict[Dispatcher, None] = {}  # a set that keeps the order of joining
        self.changing = asyncio.Lock()  # joining the group and leaving it, one at a time
        self.channel_name: str | None = None
        self.receiving: asyncio.Task[None] | None = None

    async def subscribe(self) -> None:
        """Into the group, unless already in: the first consumer of the group in this process."""
        async with self.changing:
            if self.receiving is not None:
                return
            async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):
                channel_name = await self.layer.new_channel()
                try:
                    await self.layer.group_add(self.group, channel_name)
                except BaseException:
                    await give_back_channel(self.layer, channel_name)
                    raise
            self.channel_name = channel_name
            self.receiving = asyncio.create_task(self.relay(channel_name))

    async def unsubscribe(self) -> None:
        """Out of the group, if nobody joined meanwhile. Never raises for a lost Redis: the group
        entry then expires with the group (RedisChannelLayer) or with the connection (Pub/Sub)."""
        async with self.changing:
            if self.members or self.receiving is None:
                return
            receiving, self.receiving = self.receiving, None
            channel_name, self.channel_name = self.channel_name, None
            receiving.cancel()
            await asyncio.gather(receiving, return_exceptions=True)
            with contextlib.suppress(*LAYER_ERRORS):
                async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):
                    await give_back_channel(self.layer, channel_name)
                    await self.layer.group_discard(self.group, channel_name)  # type: ignore[arg-type]

    async def relay(self, channel_name: str) -> None:
        try:
            while True:
                try:
                    event: dict[str, Any] = await self.layer.receive(channel_name)
                except LAYER_ERRORS:
                    raise
                except Exception:
                    # A message the layer could not read (not msgpack: not from a layer's group_send).
                    # It is gone; the room's next ones are not, and a consumer that misses one
                    # fetches it from the database when the next arrives (GaplessDelivery).
                    logger.exception("%s: skipped a message that could not be read", self.group)
                    continue
                for member in list(self.members):  # a handler run now may leave, or let another in
                    member.offer(event)
        except LAYER_ERRORS as error:
            # RedisChannelLayer's receive fails when Redis goes away: every consumer of the group in
            # this process ends as its own receive would have ended it, and closes (try again later).
            members, self.members = list(self.members), {}
            self.receiving = None
            for member in members:
                member.fail(error)
            self.lost(self)


class ProcessGroups:
    """This process's group feeds, one per group with a consumer here."""

    def __init__(self) -> None:
        self.feeds: dict[str, GroupFeed] = {}

    async def join(self, layer: BaseChannelLayer, group: str, member: Dispatcher) -> None:
        """`member` is offered the group's messages from now on. Raises what the layer raises when
        Redis is unreachable; then nothing was joined."""
        feed = self.feeds.get(group)
        if feed is None:
            feed = self.feeds[group] = GroupFeed(layer, group, lost=self._forget)
        feed.members[member] = None  # first, so that a last leave under way keeps the feed
        try:
            await feed.subscribe()
        except BaseException:
            await self.leave(group, member)
            raise

    async def leave(self, group: str, member: Dispatcher) -> None:
        """Never raises for a lost Redis; finishes even if the caller is cancelled meanwhile, so that
        no group entry is left behind half-removed."""
        feed = self.feeds.get(group)
        if feed is None or member not in feed.members:
            return
        del feed.members[member]
        if not feed.members:
            await asyncio.shield(self._drop_if_empty(feed))

    async def _drop_if_empty(self, feed: GroupFeed) -> None:
        await feed.unsubscribe()
        self._forget(feed)

    def _forget(self, feed: GroupFeed) -> None:
        if not feed.members and self.feeds.get(feed.group) is feed:
            del self.feeds[feed.group]


_process_groups: PerEventLoop[ProcessGroups] = PerEventLoop(ProcessGroups)


def process_groups() -> ProcessGroups:
    return _process_groups.get()

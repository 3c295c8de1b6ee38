"""/ws/notifications/: tells every connected client when a report is published.

Runs only under ASGI: each connection is a coroutine on the server's event loop, and thousands can
wait at once for the next publication, costing a little memory each instead of a thread each.

The one thing a socket must never do is go silent while it looks alive: a publication stored while
Redis was away would then never reach it. So whenever this process loses Redis, its sockets are
closed with 1013 ("try again later", reports/redis_watch.py), and the browser's ResumableSocket
reconnects with ?after=<last id> and gets what it missed from the database.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async

from metrics.instruments import CHANNEL_LAYER_ERRORS
from myproject.realtime.consumer import RealtimeConsumer
from myproject.realtime.frames import FrameRefused
from myproject.realtime.layer import LAYER_ERRORS, LAYER_TIMEOUT_SECONDS
from myproject.realtime.resume import BadResumePoint, read_after
from reports import selectors
from reports.protocol import NOTIFICATIONS_GROUP, read_only_frame
from reports.redis_watch import redis_watch

logger = logging.getLogger(__name__)

# On a worker thread, so that the event loop never waits on the database (as in chat/consumers.py).
publications_after = database_sync_to_async(selectors.publications_after)


class NotificationsConsumer(RealtimeConsumer):
    label = "notifications"
    joined = False

    async def connect(self) -> None:
        self.backlog_ids: set[int] = set()
        try:
            after = read_after(self.scope["query_string"])
        except BadResumePoint:
            return await self.refuse()
        try:
            await self.join()
        except LAYER_ERRORS as error:
            logger.warning("notifications: Redis is unreachable (%r); refusing a handshake", error)
            CHANNEL_LAYER_ERRORS.labels("join").inc()
            return await self.refuse()
        await self.accept()
        if after is not None:
            await self.send_backlog(after)

    async def receive_frame(self, frame: dict[str, Any]) -> None:
        await self.send_frame(read_only_frame())

    async def frame_refused(self, refused: FrameRefused) -> None:
        await self.send_frame(read_only_frame())

    async def release(self) -> None:
        if self.joined:
            self.joined = False
            redis_watch().discard(self)
            try:
                async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):
                    await self.channel_layer.group_discard(NOTIFICATIONS_GROUP, self.channel_name)
            except LAYER_ERRORS:
                pass  # Redis is gone, and the membership with it

    # From the channel layer ---------------------------------------------------------------------------

    async def report_published(self, event: dict[str, Any]) -> None:
        # Already sent from the backlog if it committed between the group join and the query.
        if event["id"] not in self.backlog_ids:
            await self.send_frame(event)

    # Helpers ------------------------------------------------------------------------------------------

    async def join(self) -> None:
        """Join the group and the Redis watch. Before the backlog is read: a publication committed
        meanwhile then arrives as an event, and nothing falls between the two."""
        self.joined = True
        async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):
            await self.channel_layer.group_add(NOTIFICATIONS_GROUP, self.channel_name)
            await redis_watch().add(self)

    async def send_backlog(self, after: int) -> None:
        for frame in await publications_after(after):
            self.backlog_ids.add(frame["id"])
            await self.send_frame(frame)

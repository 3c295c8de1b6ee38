"""/ws/notifications/: tells every connected client when a report is published.

Runs only under ASGI: each connection is a coroutine on the server's event loop, and thousands can
wait at once for the next publication, costing a little memory each instead of a thread each.

The one thing a socket must never do is go silent while it looks alive: a publication stored while
Redis was away would then never reach it. So whenever this process loses Redis, its sockets are
closed with 1013 ("try again later"), and the browser's ResumableSocket reconnects with
?after=<last id> and gets what it missed from the database.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from myproject.redis_clients import RedisHost, channel_layer_hosts, redis_client
from reports.models import Publication
from reports.services import NOTIFICATIONS_GROUP, publication_frame

logger = logging.getLogger(__name__)

# A client that was away longer than this many publications reloads the page instead.
RESUME_LIMIT = 500
# Ids are bigint: anything longer is not an id, and would overflow the database's integer.
MAX_ID_DIGITS = 18
# What the channel layer raises when Redis goes away: refused or reset connections, or silence.
LAYER_ERRORS = (RedisError, OSError, TimeoutError)
LAYER_TIMEOUT_SECONDS = 2.0
# How often each process checks that Redis is still the one it joined: a lost socket is noticed
# within about this long plus LAYER_TIMEOUT_SECONDS.
WATCH_SECONDS = 2.0
CLOSE_TRY_AGAIN_LATER = 1013


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except LAYER_ERRORS as error:
            # With RedisChannelLayer this is how a consumer learns that Redis went away: its wait
            # for the next event fails. Close instead of crashing, so the client reconnects.
            logger.warning("notifications: lost the channel layer (%r); closing a socket", error)
            # `send` itself: if the layer failed before Channels set the consumer up (a new
            # channel needs Redis too), self.close() has nothing to send with yet.
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})

    async def connect(self) -> None:
        self.backlog_ids: set[int] = set()
        try:
            # Join before reading the backlog: a publication committed meanwhile then arrives as
            # an event, and nothing falls between the two.
            async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):
                await self.channel_layer.group_add(NOTIFICATIONS_GROUP, self.channel_name)
                await redis_watch().add(self)
        except LAYER_ERRORS as error:
            logger.warning("notifications: Redis is unreachable (%r); refusing a handshake", error)
            await self.close()  # before accept(): the handshake is refused
            return
        await self.accept()
        query = parse_qs(self.scope["query_string"].decode("latin-1"), keep_blank_values=True)
        after = query.get("after", [None])[-1]
        if after is None:
            return
        if not (after.isdigit() and len(after) <= MAX_ID_DIGITS):
            await self.send_error(
                "invalid_after", "after must be a publication id: a whole number, 0 or more."
            )
            return
        async for publication in Publication.objects.filter(pk__gt=int(after)).order_by("pk")[:RESUME_LIMIT]:
            self.backlog_ids.add(publication.pk)
            await self.send_json(publication_frame(publication))

    async def disconnect(self, code: int) -> None:
        redis_watch().discard(self)
        try:
            async with asyncio.timeout(LAYER_TIMEOUT_SECONDS):
                await self.channel_layer.group_discard(NOTIFICATIONS_GROUP, self.channel_name)
        except LAYER_ERRORS:
            pass  # Redis is gone, and the membership with it

    async def report_published(self, event: dict[str, Any]) -> None:
        # Already sent from the backlog if it committed between the group join and the query.
        if event["id"] in self.backlog_ids:
            return
        await self.send_json(event)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        await self.send_error("read_only", "This socket only sends notifications; publish with a POST.")

    async def send_error(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})


class RedisWatch:
    """Closes this process's notification sockets when Redis goes away or restarts.

    RedisChannelLayer tells a consumer itself (its wait fails, see __call__ above), but
    RedisPubSubChannelLayer retries quietly and resubscribes after a restart: its sockets would
    stay open across the gap and never hear of what was published in it. So, while this process
    has sockets, it asks Redis for its run_id every WATCH_SECONDS: no answer, or a new run_id (a
    restart, which empties Redis), and every socket here is closed with 1013.
    """

    def __init__(self, hosts: list[RedisHost]):
        # No retries and short timeouts: the point is to notice within seconds. One client per
        # shard: a restart of any of them loses the publications it was carrying.
        self.clients = [
            redis_client(
                host,
                socket_timeout=LAYER_TIMEOUT_SECONDS,
                socket_connect_timeout=LAYER_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),
            )
            for host in hosts
        ]
        self.consumers: set[NotificationsConsumer] = set()
        self.run_id: str | None = None
        self.task: asyncio.Task | None = None

    async def add(self, consumer: NotificationsConsumer) -> None:
        """Watch over `consumer`; raises a LAYER_ERRORS error if Redis does not answer now."""
        run_id = await self.current_run_id()
        if run_id != self.run_id:
            # A restart since the last look: the sockets already here missed whatever it cut off.
            await self.close_all()
            self.run_id = run_id
        self.consumers.add(consumer)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.watch_while_connected(), name="notifications-redis-watch")

    def discard(self, consumer: NotificationsConsumer) -> None:
        self.consumers.discard(consumer)
        if not self.consumers and self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()
            self.task = None

    async def current_run_id(self) -> str:
        # Behind Sentinel a failover changes it too: the promoted replica is another server.
        return " ".join([(await client.info("server"))["run_id"] for client in self.clients])

    async def watch_while_connected(self) -> None:
        try:
            while self.consumers:
                await asyncio.sleep(WATCH_SECONDS)
                try:
                    same_redis = await self.current_run_id() == self.run_id
                except LAYER_ERRORS:
                    same_redis = False
                if not same_redis:
                    await self.close_all()
        finally:
            for client in self.clients:
                await client.aclose()  # reconnects by itself if sockets come again

    async def close_all(self) -> None:
        if not self.consumers:
            return
        logger.warning(
            "notifications: Redis went away or restarted; closing %d socket(s) so they resume",
            len(self.consumers),
        )
        closing, self.consumers = self.consumers, set()
        for consumer in closing:
            await consumer.close(code=CLOSE_TRY_AGAIN_LATER)


class NoWatch:
    """Without REDIS_URL the layer lives in this process's memory and cannot go away."""

    async def add(self, consumer: NotificationsConsumer) -> None:
        pass

    def discard(self, consumer: NotificationsConsumer) -> None:
        pass


# One watch per event loop: a server process has one loop; tests get a fresh one each.
_watch_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RedisWatch | NoWatch] = (
    weakref.WeakKeyDictionary()
)


def redis_watch() -> RedisWatch | NoWatch:
    loop = asyncio.get_running_loop()
    watch = _watch_by_loop.get(loop)
    if watch is None:
        hosts = channel_layer_hosts()
        watch = _watch_by_loop[loop] = RedisWatch(hosts) if hosts else NoWatch()
    return watch

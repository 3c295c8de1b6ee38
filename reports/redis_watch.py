"""Closes this process's notification sockets when Redis goes away or restarts.

RedisChannelLayer tells a consumer itself (its wait for the next event fails; see
myproject/realtime/consumer.py's RealtimeConsumer), but RedisPubSubChannelLayer, the default, retries
quietly and resubscribes after a restart: its sockets would stay open across the gap and never hear
of what was published in it. So, while this process has sockets, the watch asks Redis for its
run_id every WATCH_SECONDS: no answer, or a new run_id (a restart, which empties Redis), and every
socket here is closed with 1013, and its client resumes from the database with ?after=.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from myproject.realtime.close_codes import CLOSE_TRY_AGAIN_LATER
from myproject.realtime.consumer import RealtimeConsumer
from myproject.realtime.layer import LAYER_ERRORS, redis_without_retries
from myproject.realtime.per_event_loop import PerEventLoop
from myproject.redis_clients import RedisHost, channel_layer_hosts

logger = logging.getLogger(__name__)

# How often each process checks that Redis is still the one it joined: a lost Redis is noticed
# within about this long plus LAYER_TIMEOUT_SECONDS.
WATCH_SECONDS = 2.0


class RedisWatch:
    """One per event loop (so one per server process). Its Redis clients are used under `lock` only:
    a handshake's check and the watch task's look never share a connection, and the client is
    closed only when the last socket left, decided under the same lock as each arrival. (Closing it
    from a task cancelled by whoever left last, while another handshake used it, refused that
    handshake.)"""

    def __init__(self, hosts: list[RedisHost]) -> None:
        # One client per shard: a restart of any of them loses the publications it was carrying.
        self.clients = [redis_without_retries(host) for host in hosts]
        self.lock = asyncio.Lock()
        self.consumers: set[RealtimeConsumer] = set()
        self.run_id: str | None = None
        self.task: asyncio.Task[None] | None = None

    async def add(self, consumer: RealtimeConsumer) -> None:
        """Watch over `consumer`; raises a LAYER_ERRORS error if Redis does not answer now."""
        async with self.lock:
            run_id = await self._run_id()
            if run_id != self.run_id:
                # A restart since the last look: the sockets already here missed whatever it cut off.
                await self.close_all()
                self.run_id = run_id
            self.consumers.add(consumer)
            if self.task is None:
                self.task = asyncio.create_task(
                    self._watch_while_connected(), name="notifications-redis-watch"
                )

    def discard(self, consumer: RealtimeConsumer) -> None:
        # The task is left alone: it sees at its next look that nobody is left, and ends.
        self.consumers.discard(consumer)

    async def close_all(self) -> None:
        """Close every watched socket with 1013. A socket whose close fails (its consumer crashed, its
        client vanished) cannot keep the others open: they are closed together, each on its own."""
        if not self.consumers:
            return
        logger.warning(
            "notifications: Redis went away or restarted; closing %d socket(s) so they resume",
            len(self.consumers),
        )
        closing, self.consumers = self.consumers, set()
        results = await asyncio.gather(
            *(consumer.close_once(CLOSE_TRY_AGAIN_LATER) for consumer in closing), return_exceptions=True
        )
        for failure in (result for result in results if isinstance(result, Exception)):
            logger.warning("notifications: could not close a socket (%r)", failure)

    async def _run_id(self) -> str:
        # Behind Sentinel a failover changes it too: the promoted replica is another server.
        return " ".join([(await client.info("server"))["run_id"] for client in self.clients])

    async def _close_clients(self) -> None:
        for client in self.clients:
            await client.aclose()  # reconnects by itself if sockets come again

    async def _watch_while_connected(self) -> None:
        try:
            while True:
                await asyncio.sleep(WATCH_SECONDS)
                async with self.lock:
                    if not self.consumers:
                        self.task = None
                        await self._close_clients()
                        return
                    try:
                        same_redis = await self._run_id() == self.run_id
                    except LAYER_ERRORS:
                        same_redis = False
                    if not same_redis:
                        await self.close_all()
        except asyncio.CancelledError:
            # Only when the loop itself shuts down (a test's end, a server's exit).
            with contextlib.suppress(*LAYER_ERRORS):
                await self._close_clients()
            raise


class NoWatch:
    """Without Redis the layer lives in this process's memory and cannot go away."""

    async def add(self, consumer: RealtimeConsumer) -> None:
        pass

    def discard(self, consumer: RealtimeConsumer) -> None:
        pass


def _new_watch() -> RedisWatch | NoWatch:
    hosts = channel_layer_hosts()
    return RedisWatch(hosts) if hosts else NoWatch()


_watch = PerEventLoop(_new_watch)


def redis_watch() -> RedisWatch | NoWatch:
    return _watch.get()

"""Per-connection flood control for the chat consumer.

A token bucket lets a connection send `rate` frames a second on average, in bursts of up to
`burst`; a frame over the limit gets `rate_limited`. Each refusal is a strike, and strikes come
from a second bucket that forgives one a second: a client that keeps flooding regardless runs out
of strikes and is closed with 1008 (policy violation). It all lives in the consumer instance, so it
costs no I/O; a client that opens many connections is a job for the proxy in front.

Frames are counted when they arrive, not when the consumer gets to them (`ReadAhead`): while the
consumer waits on the database (SQLite locked by another writer, a slow disk), an honest client's
frames queue up, and counted on processing they would look like a burst. Counted on arrival, a
client that keeps to the rate is never refused, however long the server stalls, and a flood is
closed at once instead of after the stall.
"""

import asyncio
import contextlib
import enum
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from asgiref.typing import ASGIReceiveCallable, ASGIReceiveEvent


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = burst
        self.updated = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    LIMITED = "limited"
    FLOODING = "flooding"


class FloodGuard:
    STRIKES_FORGIVEN_PER_SECOND = 1.0

    def __init__(self, rate: float, burst: int, strikes: int, clock: Callable[[], float] = time.monotonic):
        self.frames = TokenBucket(rate, burst, clock)
        self.strikes = TokenBucket(self.STRIKES_FORGIVEN_PER_SECOND, strikes, clock)

    def check(self) -> Verdict:
        """Account for one incoming frame."""
        if self.frames.take():
            return Verdict.ALLOWED
        if self.strikes.take():
            return Verdict.LIMITED
        return Verdict.FLOODING


class ReadAhead:
    """The server's `receive`, read by a task of its own as events arrive: each one is handed to
    `arrived` at once, which answers it or passes it on to the consumer (True), in order.

    Uvicorn reads a socket only while its application has taken the last frame (it pauses reading
    otherwise), so without this a stalled consumer leaves an honest client's frames in the kernel's
    buffers, to arrive all at once when the stall ends. Only frames within the rate are passed on,
    so at most `burst` + `rate` x the stall of them wait here.
    """

    def __init__(self, receive: ASGIReceiveCallable, arrived: Callable[[ASGIReceiveEvent], Awaitable[bool]]):
        self.receive = receive
        self.arrived = arrived
        self.queue: asyncio.Queue[ASGIReceiveEvent | Exception] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None

    async def __call__(self) -> ASGIReceiveEvent:
        if self.reader is None:
            self.reader = asyncio.create_task(self.read())
        event = await self.queue.get()
        if isinstance(event, Exception):
            raise event
        return event

    async def read(self) -> None:
        while True:
            try:
                event = await self.receive()
                passed_on = await self.arrived(event)
            except Exception as error:  # the consumer's next receive raises it, as the server's would
                self.queue.put_nowait(error)
                return
            if passed_on:
                self.queue.put_nowait(event)
            if event["type"] == "websocket.disconnect":
                if not passed_on:
                    self.queue.put_nowait(event)
                return

    async def stop(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


@contextlib.asynccontextmanager
async def read_ahead(
    receive: ASGIReceiveCallable, arrived: Callable[[ASGIReceiveEvent], Awaitable[bool]]
) -> AsyncIterator[ReadAhead]:
    reader = ReadAhead(receive, arrived)
    try:
        yield reader
    finally:
        await reader.stop()

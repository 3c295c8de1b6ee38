"""What a consumer waits on, and one handler at a time: Channels' loop, without a task per event.

Channels' AsyncConsumer waits on two sources, the client's socket and its own channel in the channel
layer, through `await_many_dispatch`: for every event it builds `asyncio.wait` anew (a future, a
done-callback on each source's task) and starts a new task for that source's next receive. For a
chat reader that is paid on every broadcast it relays, thousands of times a second in a busy room,
and it is most of what Channels adds to a delivery (docs/chat.md, appendix).

`Dispatcher.run` keeps Channels' rules and drops that work: one long-lived task per source, each
waiting on its source and handing each event to `dispatch`; a lock runs one handler at a time, in
the order the events were taken, and a source takes its next event only once its last one was
handled. The first exception (StopConsumer, a lost client, a lost Redis) ends the loop and is
raised; a source that fails while a handler runs lets that handler finish first, and no handler
starts after one has raised, as under Channels, whose one loop stops there. (An event another
source took meanwhile is dropped with it: a handler started then would be cancelled half-way when
the loop ends, leaving Redis subscribed to a group whose leave it was making.)

A third way in, `offer`, is for the events this process fans out itself (myproject/realtime/groups.py:
one receive per group and process, not one per consumer). An offered event is handled on the spot,
on the fan-out's turn, when the consumer is idle and the handler does not have to wait
(`start_eagerly`); otherwise it waits in the consumer's inbox, in order, for its turn under the same
lock, taken by a task that lives only while the inbox holds events (an idle consumer costs no task
for it: thousands are held at once). A consumer that falls too far behind (a client that reads
slower than the room talks) is dropped rather than queued for without end: it comes back and
resumes from the database.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from myproject.realtime.eager import start_eagerly

Source = Callable[[], Awaitable[Any]]
Dispatch = Callable[[Any], Awaitable[None]]

# How many offered events may wait for one consumer: far more than any client that keeps up ever has
# waiting (the chat's room limit lets each user send a few a second), and, as each waiting event is
# the one object the whole process shares, a few KiB per consumer at most.
MAX_BACKLOG = 1000


class FellBehind(Exception):
    """The consumer's inbox is full: its client reads slower than events arrive."""


class Dispatcher:
    def __init__(self, dispatch: Dispatch, max_backlog: int | None = None) -> None:
        self.dispatch = dispatch
        self.max_backlog = MAX_BACKLOG if max_backlog is None else max_backlog
        self.one_at_a_time = asyncio.Lock()
        self.ended = False  # set, under the lock, by the first exception
        # The loop's end, when it does not come from a source: an offered event's handler raised,
        # the fan-out lost its channel, the consumer fell behind.
        self.failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Made when first needed: most consumers are idle, and thousands of them are held at once.
        self.inbox: deque[Any] | None = None  # offered events waiting for their turn
        self.draining: asyncio.Task[None] | None = None  # takes them in turn, while there are some
        self.started: set[asyncio.Task[None]] | None = None  # offered handlers that had to wait

    async def run(self, sources: list[Source]) -> None:
        relays = [asyncio.create_task(self.relay(source)) for source in sources]
        try:
            await asyncio.wait([*relays, self.failed], return_when=asyncio.FIRST_COMPLETED)
            if self.failed.done():
                async with self.one_at_a_time:  # the handler running now finishes first
                    self.ended = True
                self.failed.result()
            # The relay that raised ended first; one that found the loop ended returns quietly.
            for relay_task in relays:
                if relay_task.done() and relay_task.exception() is not None:
                    relay_task.result()
        finally:
            self.ended = True
            self.failed.cancel()  # no-op if it holds the failure already raised
            # Cancelled while it waits, a source gives up its receive as it would under Channels (the
            # Pub/Sub layer unsubscribes the consumer's channel then; see myproject/consumer_channels.py).
            tasks = [*relays, *(self.started or ()), *([self.draining] if self.draining else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def relay(self, source: Source) -> None:
        while True:
            try:
                event = await source()
            except Exception:
                async with self.one_at_a_time:  # the handler running now finishes first
                    self.ended = True
                    raise
            async with self.one_at_a_time:
                if self.ended:
                    return
                try:
                    await self.dispatch(event)
                except BaseException:
                    self.ended = True
                    raise

    # Offered events ---------------------------------------------------------------------------------

    def offer(self, event: Any) -> None:
        """Handle `event` now if nothing is ahead of it and the handler need not wait, else queue it.
        Never raises and never waits: the caller is handing the same event to thousands."""
        if self.ended or self.failed.done():
            return
        if self.inbox or self.one_at_a_time.locked():
            if self.inbox is None:
                self.inbox = deque()
            if len(self.inbox) >= self.max_backlog:
                self.inbox.clear()
                return self.fail(FellBehind(f"{self.max_backlog} events waiting"))
            self.inbox.append(event)
            if self.draining is None:
                self.draining = asyncio.create_task(self.drain())
            return
        task = start_eagerly(self.handle_offered(event))
        if task is not None:
            if self.started is None:
                self.started = set()
            self.started.add(task)
            task.add_done_callback(self.started.discard)

    def fail(self, error: BaseException) -> None:
        """End the loop with `error`, as if a source had raised it (the fan-out lost its channel)."""
        if not self.failed.done():
            self.failed.set_exception(error)

    async def handle_offered(self, event: Any) -> None:
        async with self.one_at_a_time:
            if not self.ended:
                await self.dispatch_offered(event)

    async def drain(self) -> None:
        """The inbox's events, in turn, each under the lock, until it is empty."""
        try:
            while self.inbox and not self.ended:
                async with self.one_at_a_time:
                    if self.ended or not self.inbox:
                        return
                    await self.dispatch_offered(self.inbox.popleft())
        finally:
            self.draining = None

    async def dispatch_offered(self, event: Any) -> None:
        """`dispatch`, with its exception handed to the loop: a task's would go unseen."""
        try:
            await self.dispatch(event)
        except Exception as error:
            self.ended = True
            self.fail(error)

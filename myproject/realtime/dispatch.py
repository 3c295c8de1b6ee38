"""What a consumer waits on, and one handler at a time: Channels' loop, without a task per event.

Channels' AsyncConsumer waits on two sources, the client's socket and its own channel in the channel
layer, through `await_many_dispatch`: for every event it builds `asyncio.wait` anew (a future, a
done-callback on each source's task) and starts a new task for that source's next receive. For a
chat reader that is paid on every broadcast it relays, thousands of times a second in a busy room,
and it is most of what Channels adds to a delivery (docs/chat.md, appendix).

`dispatch_from` keeps Channels' rules and drops that work: one long-lived task per source, each
waiting on its source and handing each event to `dispatch`; a lock runs one handler at a time, in
the order the events were taken, and a source takes its next event only once its last one was
handled. The first exception (StopConsumer, a lost client, a lost Redis) ends the loop and is
raised; a source that fails while a handler runs lets that handler finish first, and no handler
starts after one has raised, as under Channels, whose one loop stops there. (An event another
source took meanwhile is dropped with it: a handler started then would be cancelled half-way when
the loop ends, leaving Redis subscribed to a group whose leave it was making.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Source = Callable[[], Awaitable[Any]]


async def dispatch_from(sources: list[Source], dispatch: Callable[[Any], Awaitable[None]]) -> None:
    one_at_a_time = asyncio.Lock()
    ended = False  # set, under the lock, by the first exception

    async def relay(source: Source) -> None:
        nonlocal ended
        while True:
            try:
                event = await source()
            except Exception:
                async with one_at_a_time:  # the handler running now finishes first
                    ended = True
                    raise
            async with one_at_a_time:
                if ended:
                    return
                try:
                    await dispatch(event)
                except BaseException:
                    ended = True
                    raise

    relays = [asyncio.create_task(relay(source)) for source in sources]
    try:
        await asyncio.wait(relays, return_when=asyncio.FIRST_COMPLETED)
        # The relay that raised ended first; one that found the loop ended returns quietly.
        for relay_task in relays:
            if relay_task.done() and relay_task.exception() is not None:
                relay_task.result()
    finally:
        # Cancelled while it waits, a source gives up its receive as it would under Channels (the
        # Pub/Sub layer unsubscribes the consumer's channel then; see myproject/consumer_channels.py).
        for relay_task in relays:
            relay_task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)

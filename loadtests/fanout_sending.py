"""The fan-out benchmark's sender (`make bench-fanout`, loadtests/fanout_bench.py): tagged messages
at a fixed rate, each kind in its own frame, then every reader process's receipts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from websockets.asyncio.client import ClientConnection

from loadtests.clients import paced
from loadtests.fanout_readers import DRAIN_SECONDS, open_socket, path_of
from loadtests.fanout_report import Run

Readers = list[tuple[multiprocessing.process.BaseProcess, Connection]]
Receipts = list[tuple[str, float]]


def frame_of(kind: str, tag: str, number: int) -> str:
    """What a sender of `kind` sends to have message `tag` reach every reader."""
    if kind == "chat":
        return json.dumps({"type": "message", "text": f"fan-out #{number}", "client_id": tag})
    if kind == "plain":
        return json.dumps({"text": tag})
    return tag


SENDER_SETTLE_SECONDS = 1.0


async def send_and_collect(
    run: Run,
    rate: float,
    duration: float,
    urls: list[str],
    room: str,
    prefix: str,
    cookie: str | None,
    sent_at: dict[str, float],
    readers: Readers,
    clock_starts: Callable[[], None],
) -> list[tuple[Receipts, float]]:
    """Send the messages at a fixed rate, then collect every reader process's receipts: the chat's
    through one signed-in socket (Redis takes each to both servers), the plain consumer's through
    one socket, the floor's through one sender socket per server (the floor has no channel layer).
    `clock_starts` is called once the senders' own joins have settled, before the first message.
    The senders stay open until the readers have reported: a consumer still working through its
    sender's frames would drop the rest when its socket closed."""
    if run.kind == "floor":
        senders = [await open_socket(url, path_of("floor", room, sender=True)) for url in urls]
    else:
        senders = [await open_socket(urls[0], path_of(run.kind, room), cookie)]
    draining = [asyncio.create_task(drain(each)) for each in senders]
    # The chat's sender is signed in: its join is news to the room, a presence frame to every reader,
    # a fan-out of its own. The clock starts once that has gone out.
    await asyncio.sleep(SENDER_SETTLE_SECONDS)
    clock_starts()
    async for number in paced(rate, duration):
        tag = f"{prefix}{number}"
        frame = frame_of(run.kind, tag, number)
        sent_at[tag] = time.monotonic()
        for sender in senders:
            await sender.send(frame)
        run.sent += 1
    run.expected = run.sent * run.clients
    loop = asyncio.get_running_loop()
    reports = []
    for _, pipe in readers:
        pipe.send(("stop", run.sent))
    for _, pipe in readers:
        if not await loop.run_in_executor(None, pipe.poll, DRAIN_SECONDS + 120):
            raise TimeoutError("a reader process did not report")
        reports.append(pipe.recv())
    for task in draining:
        task.cancel()
    await asyncio.gather(*(each.close() for each in senders), return_exceptions=True)
    await asyncio.gather(*draining, return_exceptions=True)
    return reports


async def drain(socket_: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        async for _ in socket_:
            pass

"""The fan-out benchmark's readers (`make bench-fanout`, loadtests/fanout_bench.py): processes of
their own, each holding a share of the sockets on both servers and noting when each tagged message
arrives, on the machine's monotonic clock, which the sender's process shares. The readers are
loadtests/lean_reader.py's, which cost a few microseconds a frame: the servers share the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from multiprocessing.connection import Connection

from websockets.asyncio.client import ClientConnection

from loadtests.clients import CONNECT_CONCURRENCY, open_path, raise_open_files_limit
from loadtests.lean_reader import LeanReader, Refused, open_reader

# After the last send, how long the stragglers get before they count as lost.
DRAIN_SECONDS = 15.0
# A handshake the chat refuses (its join to Redis timed out on a busy machine: docs/protocol.md's
# "try again later") is tried again, as a client would, after a pause.
CONNECT_ATTEMPTS = 5
RETRY_PAUSE_SECONDS = 1.0
# Thousands of handshakes share the machine with the servers: one may wait a long time.
OPEN_TIMEOUT_SECONDS = 120


def path_of(kind: str, room: str, sender: bool = False) -> str:
    if kind == "floor":
        return "/ws/floor/?role=sender" if sender else "/ws/floor/"
    return f"/ws/{kind}/{room}/"


async def open_socket(url: str, path: str, cookie: str | None = None) -> ClientConnection:
    return await open_path(url, path, cookie, OPEN_TIMEOUT_SECONDS)


def tag_of(raw: str | bytes) -> str | None:
    """The tag a message frame carries, or None for any other frame."""
    frame = json.loads(raw)
    if not isinstance(frame, dict):
        return None
    # The chat's and the floor's message frames name it client_id; the plain consumer's, text.
    tag = frame.get("client_id") or frame.get("text")
    return tag if isinstance(tag, str) else None


def spread(clients: int, processes: int) -> list[int]:
    processes = max(1, min(processes, clients))
    return [clients // processes + (number < clients % processes) for number in range(processes)]


def reader_process(
    pipe: Connection, urls: list[str], path: str, count: int, first: int, prefix: str, processes: int
) -> None:
    """Open `count` readers (reader i on server i mod len(urls)), say "ready", then note when each
    tag starting with `prefix` arrives; on ("stop", sent), wait for sent x count receipts (or the
    drain time), answer with them and this process's CPU time, then close."""
    raise_open_files_limit(count + 64)
    asyncio.run(read_until_stopped(pipe, urls, path, count, first, prefix, processes))


async def read_until_stopped(
    pipe: Connection, urls: list[str], path: str, count: int, first: int, prefix: str, processes: int
) -> None:
    loop = asyncio.get_running_loop()
    semaphore = asyncio.Semaphore(max(1, CONNECT_CONCURRENCY // processes))
    refused = 0
    receipts: list[tuple[str, float]] = []
    enough = asyncio.Event()
    expected: list[int] = []

    def arrived(text: bytes, at: float) -> None:
        tag = tag_of(text)
        if tag is not None and tag.startswith(prefix):
            receipts.append((tag, at))
            if expected and len(receipts) >= expected[0]:
                enough.set()

    async def opened(number: int) -> LeanReader:
        nonlocal refused
        url = urls[number % len(urls)]
        for _ in range(CONNECT_ATTEMPTS - 1):
            try:
                async with semaphore:
                    return await open_reader(url, path, arrived, OPEN_TIMEOUT_SECONDS)
            except Refused:
                refused += 1
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
        async with semaphore:
            return await open_reader(url, path, arrived, OPEN_TIMEOUT_SECONDS)

    sockets = await asyncio.gather(*(opened(first + number) for number in range(count)))
    pipe.send(("ready", refused))
    await loop.run_in_executor(None, pipe.recv)  # "go"
    cpu_started = time.process_time()
    _, sent = await loop.run_in_executor(None, pipe.recv)  # ("stop", sent)
    expected.append(sent * count)
    if len(receipts) < expected[0]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(enough.wait(), DRAIN_SECONDS)
    pipe.send((receipts, time.process_time() - cpu_started))
    await loop.run_in_executor(None, pipe.recv)  # "close"
    await asyncio.gather(*(each.close() for each in sockets), return_exceptions=True)
    pipe.send("closed")

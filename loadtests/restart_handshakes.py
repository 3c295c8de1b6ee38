"""Chat handshakes after a Redis restart: once /readyz says ok, is every fresh one accepted?

Each handshake takes connections from the servers' pools (the channel layer's, the presence
store's). This run fills those pools with concurrent handshakes, kills Redis and starts it again,
waits until every Uvicorn's /readyz answers 200, then makes fresh handshakes, `wave` at a time,
each in a room of its own, and counts the refused ones. `make chaos` runs it as the
handshakes-after-restart scenario; tests/myproject/test_redis_restart_live.py is the test.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import requests
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

READY_TIMEOUT_SECONDS = 60.0


# What became of a handshake.
ACCEPTED = "accepted"  # the history and presence frames came
REFUSED = "refused"  # an HTTP status instead of 101 (a 403: the consumer could not join)
CLOSED = "closed"  # accepted, then closed before its first frames (1013: the layer failed)
FAILED = "failed"  # no answer: the connection failed or timed out


@dataclass
class HandshakeOutcome:
    handshakes: int
    warm_up_accepted: int = 0
    accepted: int = 0
    refused: int = 0
    closed: int = 0
    failed: int = 0
    seconds_to_ready: float = 0.0


async def handshake(url: str, room: str, cookie: str) -> str:
    try:
        async with connect(
            f"ws://{url.removeprefix('http://')}/ws/chat/{room}/",
            origin=Origin(url),
            additional_headers={"Cookie": cookie},
            open_timeout=30,
            compression=None,
            proxy=None,
        ) as socket_:
            await asyncio.wait_for(socket_.recv(), 30)  # history
            await asyncio.wait_for(socket_.recv(), 30)  # presence
            return ACCEPTED
    except InvalidStatus:
        return REFUSED
    except ConnectionClosed:
        return CLOSED
    except (OSError, TimeoutError):
        return FAILED


async def handshakes(urls: list[str], cookie: str, count: int, wave: int) -> list[str]:
    """`count` handshakes, `wave` at a time, each in a room of its own: what became of each."""
    label = uuid.uuid4().hex[:6]
    statuses: list[str] = []
    for first in range(0, count, wave):
        numbers = range(first, min(count, first + wave))
        statuses += await asyncio.gather(
            *(handshake(urls[n % len(urls)], f"restart-{label}-{n}", cookie) for n in numbers)
        )
    return statuses


def wait_until_ready(urls: list[str]) -> float:
    started = time.monotonic()
    for url in urls:
        while True:
            try:
                if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() - started > READY_TIMEOUT_SECONDS:
                raise TimeoutError(f"{url}/readyz not ok {READY_TIMEOUT_SECONDS:g} s after the restart")
            time.sleep(0.2)
    return round(time.monotonic() - started, 1)


async def handshakes_after_restart(
    urls: list[str], cookie: str, restart_redis: Callable[[], None], count: int = 200, wave: int = 50
) -> HandshakeOutcome:
    outcome = HandshakeOutcome(count)
    warm_up = await handshakes(urls, cookie, wave, wave)
    outcome.warm_up_accepted = warm_up.count(ACCEPTED)
    await asyncio.to_thread(restart_redis)
    outcome.seconds_to_ready = await asyncio.to_thread(wait_until_ready, urls)
    statuses = await handshakes(urls, cookie, count, wave)
    outcome.accepted, outcome.refused = statuses.count(ACCEPTED), statuses.count(REFUSED)
    outcome.closed, outcome.failed = statuses.count(CLOSED), statuses.count(FAILED)
    return outcome


def describe(outcome: HandshakeOutcome) -> str:
    return (
        f"Redis killed and restarted; /readyz ok on every Uvicorn {outcome.seconds_to_ready:g} s later"
        f" | then {outcome.handshakes} fresh chat handshakes: {outcome.accepted} accepted,"
        f" {outcome.refused} refused, {outcome.closed} closed at once, {outcome.failed} failed to connect"
        f" (warm-up before the restart: {outcome.warm_up_accepted} accepted)"
    )

"""How many /demo/wire/ captures the recorders (myproject/wire/recorders.py) store: a budget per
client and one for everybody, per minute.

Each capture stores a trace (up to some 31 KB with large headers) for TRACE_SECONDS in the Redis the
channel layer uses. Without a bound, one client asking as fast as it can holds hundreds of megabytes
there. A capture counts against its client's budget (WIRE_CAPTURES_PER_CLIENT a minute) and the
total (WIRE_CAPTURES_TOTAL a minute); past either, the recorder answers 429 instead of recording.
Since a trace lives one minute and the windows are calendar minutes, at most twice the total is
stored at any time.

The counters live in the "wire" cache beside the traces, so every process of both stacks shares
them. They are counted here rather than by django-ratelimit (the sign-up throttle's library) because
the recorders run outside Django, before any request object exists; the counting is the same: one
cache key per window, added then incremented. A cache that does not answer lets the capture through:
it could not store a trace either.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Refusal:
    """Why a capture is refused, for the 429's body, and when to try again."""

    message: str
    retry_after: int


def _keys(client: str, now: float) -> tuple[str, str, int]:
    window = int(now // WINDOW_SECONDS)
    retry_after = WINDOW_SECONDS - int(now % WINDOW_SECONDS)
    return f"wire-captures:{window}:client:{client}", f"wire-captures:{window}:all", retry_after


def _client_refusal(count: int, retry_after: int) -> Refusal | None:
    limit = settings.WIRE_CAPTURES_PER_CLIENT
    if count <= limit:
        return None
    why = f"this client has made {limit} captures this minute, the most one client may"
    return Refusal(f"Too many captures: {why}. Try again in {retry_after} s.", retry_after)


def _total_refusal(count: int, retry_after: int) -> Refusal | None:
    limit = settings.WIRE_CAPTURES_TOTAL
    if count <= limit:
        return None
    why = f"the server has recorded {limit} captures this minute, the most it keeps"
    return Refusal(f"Too many captures: {why}. Try again in {retry_after} s.", retry_after)


def spend(client: str, now: float | None = None) -> Refusal | None:
    """Count one capture by `client` (its address); a Refusal when over a budget. A client over its
    own budget is refused before the total counts it: one client cannot spend everybody's."""
    cache = caches["wire"]
    client_key, total_key, retry_after = _keys(client, time.time() if now is None else now)
    cache.add(client_key, 0, WINDOW_SECONDS + 5)
    if refusal := _client_refusal(cache.incr(client_key), retry_after):
        return refusal
    cache.add(total_key, 0, WINDOW_SECONDS + 5)
    return _total_refusal(cache.incr(total_key), retry_after)


async def aspend(client: str, now: float | None = None) -> Refusal | None:
    """`spend` for the event loop."""
    cache = caches["wire"]
    client_key, total_key, retry_after = _keys(client, time.time() if now is None else now)
    await cache.aadd(client_key, 0, WINDOW_SECONDS + 5)
    if refusal := _client_refusal(await cache.aincr(client_key), retry_after):
        return refusal
    await cache.aadd(total_key, 0, WINDOW_SECONDS + 5)
    return _total_refusal(await cache.aincr(total_key), retry_after)

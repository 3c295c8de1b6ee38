"""Per-connection flood control for the chat consumer.

A token bucket lets a connection send `rate` frames a second on average, in bursts of up to
`burst`; a frame over the limit gets `rate_limited`. Each refusal is a strike, and strikes come
from a second bucket that forgives one a second: a client that keeps flooding regardless runs out
of strikes and is closed with 1008 (policy violation). It all lives in the consumer instance, so it
costs no I/O; a client that opens many connections is a job for the proxy in front.
"""

import enum
import time
from collections.abc import Callable


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

"""The channel layer's log: one line per Redis outage instead of a traceback a second."""

import asyncio
import contextlib
import logging
import time

from myproject.realtime.layer import LAYER_ERRORS


class OneLinePerLayerOutage(logging.Filter):
    """For the `channels_redis.pubsub` logger: one line when Redis goes away, one when it is back.

    While Redis is down, the Pub/Sub layer's receive task logs a full traceback and retries, once a
    second, in every process: the noise buries everything else. This filter lets the first failure
    through as one line (no traceback), drops the rest, and logs a line once no failure has been seen
    for `quiet_seconds` (the layer then reads from Redis again, or nothing listens any more).
    """

    def __init__(self, quiet_seconds: float = 3.0) -> None:
        super().__init__()
        self.quiet_seconds = quiet_seconds
        self.last_failure: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, LAYER_ERRORS):
            return True
        now = time.monotonic()
        # A long gap is a new outage too: the "back" check may never have run (its loop ended).
        outage_began = self.last_failure is None or now - self.last_failure > self.quiet_seconds
        self.last_failure = now
        if not outage_began:
            return False
        record.msg, record.args = "the channel layer lost Redis (%r); retrying quietly", (error,)
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        with contextlib.suppress(RuntimeError):  # no running loop: no "back" line, no harm
            asyncio.get_running_loop().call_later(self.quiet_seconds, self._check_back, record.name)
        return True

    def _check_back(self, logger_name: str) -> None:
        if self.last_failure is None:
            return
        quiet_for = time.monotonic() - self.last_failure
        if quiet_for < self.quiet_seconds:
            asyncio.get_running_loop().call_later(
                self.quiet_seconds - quiet_for, self._check_back, logger_name
            )
            return
        self.last_failure = None
        logging.getLogger(logger_name).warning(
            "the channel layer has had no Redis error for %g s: Redis is back", self.quiet_seconds
        )

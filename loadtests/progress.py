"""The harness's progress bar on stderr, with an estimate of the time left learnt from the runs so far.

A full comparison takes about half an hour; a line that says how much is left is what lets a reader
decide whether to wait for it.
"""

from __future__ import annotations

import sys
import time

from loadtests.locust_runs import RAMP_SECONDS

SERVER_START_ESTIMATE_SECONDS = 6.0
RUN_OVERHEAD_ESTIMATE_SECONDS = 1.0


class Progress:
    """A one-line progress bar: runs done, runs planned, time left."""

    WIDTH = 30

    def __init__(self, runs: int, sessions: int, duration: int) -> None:
        self.total = runs
        self.done = 0
        self.sessions_left = sessions
        self.duration = duration
        self.started = time.monotonic()
        self.run_seconds: list[float] = []
        self.interactive = sys.stderr.isatty()

    def seconds_left(self) -> float:
        per_run = (
            sum(self.run_seconds) / len(self.run_seconds)
            if self.run_seconds
            else self.duration + RAMP_SECONDS + RUN_OVERHEAD_ESTIMATE_SECONDS
        )
        return (self.total - self.done) * per_run + self.sessions_left * SERVER_START_ESTIMATE_SECONDS

    def show(self, what: str) -> None:
        filled = int(self.WIDTH * self.done / max(1, self.total))
        left = int(self.seconds_left())
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total} runs, "
            f"~{left // 60}m{left % 60:02d}s left  {what}"
        )
        if self.interactive:
            sys.stderr.write(f"\r\033[K{line}")
        else:
            sys.stderr.write(f"{line}\n")
        sys.stderr.flush()

    def run_finished(self, seconds: float) -> None:
        self.done += 1
        self.run_seconds.append(seconds)

    def session_finished(self) -> None:
        self.sessions_left -= 1

    def close(self) -> None:
        elapsed = int(time.monotonic() - self.started)
        if self.interactive:
            sys.stderr.write("\n")
        sys.stderr.write(f"done: {self.total} runs in {elapsed // 60}m{elapsed % 60:02d}s\n")

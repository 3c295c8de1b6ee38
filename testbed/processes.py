"""A child process with a log file, started and stopped by its owner; free ports; bounded waits.

Every process gets a session (process group) of its own, so that stopping it reaches a server's
master and all of its workers, and anything a master leaves behind in its group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
# The virtualenv's tools: the start scripts call `gunicorn`, `uvicorn`, `redis-server` by name.
VENV_BIN = Path(sys.executable).parent
# Generous for a shared 2-core machine; a healthy server answers within a second or two.
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll `condition` until it holds; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")


def pin_to(cores: set[int] | None) -> Callable[[], None] | None:
    """A preexec_fn that pins the child (and every process it starts) to `cores`."""
    if not cores:
        return None

    def pin() -> None:
        os.sched_setaffinity(0, cores)

    return pin


def tree_processes(pid: int) -> list[psutil.Process]:
    """A process and all its descendants (a start script's shell, the server, its workers); none
    once it has exited."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_total(pid: int, stat: Callable[[psutil.Process], float]) -> float:
    """`stat` (a figure from /proc) summed over a process and all its descendants; a descendant
    that exits while it is read counts for nothing."""
    total = 0.0
    for process in tree_processes(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += stat(process)
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants."""

    def cpu_seconds(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    return tree_total(pid, cpu_seconds)


class ManagedProcess:
    """A child process with a log file; `start()` again after `stop()` restarts it.

    `cores`, when given, pins the process and its children to those CPU cores (the benchmarks keep
    the server and the load generator apart).
    """

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        log_dir: Path,
        cores: set[int] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.cores = cores
        self.log_path = log_path or log_dir / f"{name}-{uuid.uuid4().hex[:8]}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=pin_to(self.cores),
            )

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def cpu_seconds(self) -> float:
        """CPU time used so far by the process and its workers."""
        return tree_cpu_seconds(self.pid)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Signal the whole group, wait, SIGKILL what is left; the exit code (None if never started)."""
        if self.process is None:
            return None
        process = self.process
        if process.poll() is None:
            try:
                os.killpg(process.pid, sig)
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT_SECONDS)
            except ProcessLookupError:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # Whatever the master left behind in its group (a worker that outlived it).
            os.killpg(process.pid, signal.SIGKILL)
        self.process = None
        return process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def __repr__(self) -> str:
        return f"<{self.name} {' '.join(self.command)}>"

"""The server configurations the harness compares, and how to start, pin, watch and stop one.

Each configuration serves the same Django project with the same number of worker processes. Where
the project has a start script (deploy/), the harness uses it, so what is measured is what
`make run`, the Procfile and docker-compose.yml run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
# After a run that overloaded the server, requests still queued in its listen backlog are served
# (to clients that left) before it answers anything new; waiting for /healthz waits them out, so
# they do not spill into the next run.
DRAIN_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class ServerConfig:
    name: str
    label: str
    interface: str  # "wsgi" or "asgi"
    command: list[str]
    port_variable: str
    env: dict[str, str] = field(default_factory=dict)
    # How many requests one worker runs at once in a `def` view: the sync servers' limit that the
    # Little's-law bound of the sleep probe needs. None: no fixed limit (an ASGI server gives each
    # `def` view a thread of its own).
    threads_per_worker: int | None = None


def server_configs(threads: int) -> dict[str, ServerConfig]:
    asgi = "ASGI_PORT"
    wsgi = "WSGI_PORT"
    configs = [
        ServerConfig(
            "gunicorn-sync",
            "Gunicorn, sync workers",
            "wsgi",
            [str(DEPLOY / "start-wsgi.sh")],
            wsgi,
            {"GUNICORN_WORKER_CLASS": "sync"},
            threads_per_worker=1,
        ),
        ServerConfig(
            "gunicorn-gthread",
            f"Gunicorn, gthread workers x {threads} threads",
            "wsgi",
            [str(DEPLOY / "start-wsgi.sh")],
            wsgi,
            # Gunicorn reads extra command-line options from GUNICORN_CMD_ARGS.
            {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_CMD_ARGS": f"--threads {threads}"},
            threads_per_worker=threads,
        ),
        ServerConfig(
            "granian-wsgi",
            f"Granian, WSGI x {threads} threads",
            "wsgi",
            [str(DEPLOY / "start-granian.sh")],
            wsgi,
            # Granian's own default is hundreds of threads per worker; the same number as gthread
            # makes the two comparable.
            {"GRANIAN_INTERFACE": "wsgi", "GRANIAN_BLOCKING_THREADS": str(threads)},
            threads_per_worker=threads,
        ),
        ServerConfig("uvicorn", "Uvicorn", "asgi", [str(DEPLOY / "start-asgi.sh")], asgi),
        ServerConfig(
            "gunicorn-uvicorn",
            "Gunicorn + UvicornWorker",
            "asgi",
            [str(DEPLOY / "start-gunicorn-asgi.sh")],
            asgi,
            {"GUNICORN_WORKER_CLASS": "uvicorn_worker.UvicornWorker"},
        ),
        ServerConfig(
            "gunicorn-asgi",
            "Gunicorn, asgi workers",
            "asgi",
            [str(DEPLOY / "start-gunicorn-asgi.sh")],
            asgi,
            {"GUNICORN_WORKER_CLASS": "asgi"},
        ),
        ServerConfig(
            "daphne",
            "Daphne (one process per worker, one shared socket)",
            "asgi",
            [sys.executable, "-m", "loadtests.daphne_workers"],
            asgi,
        ),
        ServerConfig(
            "granian-asgi",
            "Granian, ASGI",
            "asgi",
            [str(DEPLOY / "start-granian.sh")],
            asgi,
            {"GRANIAN_INTERFACE": "asgi"},
        ),
    ]
    return {config.name: config for config in configs}


def pin_to(cores: set[int] | None):
    """A preexec_fn that pins the child (and every process it starts) to `cores`."""
    if not cores:
        return None

    def pin() -> None:
        os.sched_setaffinity(0, cores)

    return pin


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def get(url: str, timeout: float) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class RunningServer:
    """One configuration started on a loopback port, pinned to its cores, with its output in a log."""

    def __init__(
        self, config: ServerConfig, env: dict[str, str], port: int, cores: set[int] | None, log: Path
    ):
        self.config = config
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                config.command,
                cwd=ROOT,
                env={**env, **config.env, config.port_variable: str(port)},
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own process group, so stop() reaches the master and every worker.
                start_new_session=True,
                preexec_fn=pin_to(cores),
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.config.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                if get(f"{self.url}/readyz", timeout=5) == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(
            f"{self.config.name} was not ready after {READY_TIMEOUT_SECONDS:g} s:\n{self.log_tail()}"
        )

    def warm_up(self, paths: list[str], rounds: int) -> None:
        """Request each path a few times, so every worker has imported and compiled what it needs
        before anything is measured."""
        for _ in range(rounds):
            for path in paths:
                get(f"{self.url}{path}", timeout=30)

    def drain(self) -> None:
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                get(f"{self.url}/healthz", timeout=DRAIN_TIMEOUT_SECONDS)
            except OSError:
                time.sleep(0.2)
                continue
            if time.monotonic() - started < 0.5:
                return
        raise TimeoutError(f"{self.config.name} still busy {DRAIN_TIMEOUT_SECONDS:g} s after a run")

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except ProcessLookupError:
                pass
        with contextlib.suppress(ProcessLookupError):
            # Whatever the master left behind in its group (a worker that outlived it).
            os.killpg(self.process.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

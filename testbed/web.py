"""The web servers, each started through its deploy/ start script on a free loopback port, exactly
as `make run`, the Procfile and docker-compose.yml start them.

A server counts as started once it answers its readiness path; a failing start raises with the
server's log, so the reason is in the test's or the benchmark's output.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import requests

from testbed.processes import ROOT, START_TIMEOUT_SECONDS, ManagedProcess, free_port, wait_until

DEPLOY = ROOT / "deploy"
# After a run that overloaded a server, requests still queued in its listen backlog are served (to
# clients that left) before it answers anything new; `drain()` waits them out.
DRAIN_TIMEOUT_SECONDS = 120.0


class WebServer(ManagedProcess):
    """One stack: a start script (or any command) that serves HTTP on `port`.

    `ready_path` is what must answer 200 before the server counts as started: /healthz (the process
    serves) by default, /readyz (its database and channel layer answer too) for the benchmarks.
    """

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        log_dir: Path,
        port: int,
        *,
        cores: set[int] | None = None,
        log_path: Path | None = None,
        ready_path: str = "/healthz",
        ready_timeout: float = START_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(name, command, env, log_dir, cores=cores, log_path=log_path)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ready_path = ready_path
        self.ready_timeout = ready_timeout

    def start(self) -> None:
        """Start the process and wait until it is ready."""
        self.launch()
        self.wait_until_ready()

    def launch(self) -> None:
        """Start the process without waiting for it."""
        super().start()

    def wait_until_ready(self) -> None:
        try:
            wait_until(self.ready, self.ready_timeout, f"{self.name} on port {self.port}", interval=0.2)
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n--- {self.name} log ---\n{self.log_tail()}") from None

    def ready(self) -> bool:
        if not self.running():
            raise RuntimeError(f"{self.name} exited with {self.returncode()}:\n{self.log_tail()}")
        try:
            return requests.get(f"{self.url}{self.ready_path}", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def warm_up(self, paths: list[str], rounds: int) -> None:
        """Request each path a few times, so every worker has imported and compiled what it needs
        before anything is measured."""
        for _ in range(rounds):
            for path in paths:
                requests.get(f"{self.url}{path}", timeout=30)

    def drain(self) -> None:
        """Wait until the server answers /healthz promptly again (its backlog is served)."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                requests.get(f"{self.url}/healthz", timeout=DRAIN_TIMEOUT_SECONDS)
            except requests.RequestException:
                time.sleep(0.2)
                continue
            if time.monotonic() - started < 0.5:
                return
        raise TimeoutError(f"{self.name} still busy {DRAIN_TIMEOUT_SECONDS:g} s after a run")


def script_server(
    name: str, script: str, port_variable: str, env: dict[str, str], log_dir: Path, **settings: str
) -> WebServer:
    """A server started by deploy/`script` on a free port, with `settings` added to `env`."""
    port = free_port()
    env = {**env, **settings, port_variable: str(port)}
    # The server's metrics files beside its log, rather than in the start script's default under
    # /tmp, where each free port a run picks would leave a directory behind.
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(log_dir / f"metrics-{name}-{port}"))
    return WebServer(name, [str(DEPLOY / script)], env, log_dir, port)


def gunicorn_server(env: dict[str, str], log_dir: Path, workers: int = 2) -> WebServer:
    """The WSGI stack: Gunicorn's sync workers running myproject/wsgi.py."""
    return script_server("gunicorn", "start-wsgi.sh", "WSGI_PORT", env, log_dir, WEB_CONCURRENCY=str(workers))


def uvicorn_server(env: dict[str, str], log_dir: Path, workers: int = 1) -> WebServer:
    """The ASGI stack: Uvicorn running myproject/asgi.py (HTTP and WebSockets)."""
    return script_server("uvicorn", "start-asgi.sh", "ASGI_PORT", env, log_dir, WEB_CONCURRENCY=str(workers))


def race_driver_server(env: dict[str, str], log_dir: Path) -> WebServer:
    """The race page's driver: the ASGI application in a one-worker Uvicorn process of its own."""
    return script_server("race-driver", "start-race-driver.sh", "RACE_DRIVER_PORT", env, log_dir)


def daphne_server(env: dict[str, str], log_dir: Path) -> WebServer:
    """The ASGI stack on Daphne: one process, no workers option (see testbed/daphne_workers.py)."""
    return script_server("daphne", "start-daphne.sh", "ASGI_PORT", env, log_dir)


def granian_server(env: dict[str, str], log_dir: Path, interface: str, workers: int = 1) -> WebServer:
    """Granian serving myproject/wsgi.py or myproject/asgi.py, as `interface` says."""
    port_variable = "WSGI_PORT" if interface == "wsgi" else "ASGI_PORT"
    return script_server(
        f"granian-{interface}",
        "start-granian.sh",
        port_variable,
        env,
        log_dir,
        GRANIAN_INTERFACE=interface,
        WEB_CONCURRENCY=str(workers),
    )


def gunicorn_asgi_server(
    env: dict[str, str], log_dir: Path, worker_class: str = "asgi", workers: int = 1
) -> WebServer:
    """Gunicorn running myproject/asgi.py through an ASGI worker class (its own, or Uvicorn's)."""
    return script_server(
        "gunicorn-asgi",
        "start-gunicorn-asgi.sh",
        "ASGI_PORT",
        env,
        log_dir,
        GUNICORN_WORKER_CLASS=worker_class,
        WEB_CONCURRENCY=str(workers),
    )


def runserver(env: dict[str, str], log_dir: Path) -> WebServer:
    """`manage.py runserver` (Daphne's, serving the ASGI application), without the reloader."""
    port = free_port()
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    return WebServer("runserver", command, env, log_dir, port)

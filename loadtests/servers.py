"""The server configurations the harness compares (`make compare`), each started by the toolkit.

Each configuration serves the same Django project with the same number of worker processes. Where
the project has a start script (deploy/), the harness uses it, so what is measured is what
`make run`, the Procfile and docker-compose.yml run. Starting, pinning, watching and stopping a
server is testbed/web.py's job.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from testbed.web import DEPLOY, WebServer

# A server that runs the whole project's checks and imports on 2 shared cores can take a while.
READY_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class ServerConfig:
    name: str
    label: str
    interface: Literal["wsgi", "asgi"]
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
            [sys.executable, "-m", "testbed.daphne_workers"],
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


class RunningServer(WebServer):
    """One configuration, started at once on `port`, pinned to `cores`, its output in `log`; it is
    ready once /readyz answers (its database and channel layer too)."""

    def __init__(
        self, config: ServerConfig, env: dict[str, str], port: int, cores: set[int] | None, log: Path
    ) -> None:
        super().__init__(
            config.name,
            config.command,
            {**env, **config.env, config.port_variable: str(port)},
            log.parent,
            port,
            cores=cores,
            log_path=log,
            ready_path="/readyz",
            ready_timeout=READY_TIMEOUT_SECONDS,
        )
        self.config = config
        # Started now, waited for later: the harness starts the server, then waits until it is ready.
        self.launch()

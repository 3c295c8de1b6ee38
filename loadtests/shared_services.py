"""What every server of a comparison shares: the database, Redis, a free port, a clean environment.

All servers are measured against the same migrated and seeded database and the same Redis, so that
the only thing that changes from one server to the next is the server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from loadtests.plan import VARIANTS
from loadtests.servers import ROOT, VENV_BIN

REDIS_START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def base_environment(database_url: str, redis_url: str) -> dict[str, str]:
    """The servers' environment: this process's, minus anything that would change what is
    measured behind the harness's back (a variant's switch, debug mode, test or Gunicorn options)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "GUNICORN_"))}
    for variant in VARIANTS.values():
        for key in variant.env:
            env.pop(key, None)
    env.pop("DJANGO_DEBUG", None)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-not-for-production")
    env["DATABASE_URL"] = database_url
    env["REDIS_URL"] = redis_url
    env["PYTHONUNBUFFERED"] = "1"
    return env


def prepare_database(env: dict[str, str], log: Path) -> None:
    with log.open("ab") as output:
        for arguments in (["migrate", "--noinput"], ["seed_demo", "--size", "200"]):
            subprocess.run(
                [sys.executable, "manage.py", *arguments],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=600,
            )


class EmbeddedRedis:
    """deploy/start-redis.sh on a free port, when no REDIS_URL was given."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        env["EMBEDDED_REDIS_PORT"] = str(self.port)
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [str(ROOT / "deploy" / "start-redis.sh")],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("the embedded Redis did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

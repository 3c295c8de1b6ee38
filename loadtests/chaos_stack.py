"""The processes of one chaos scenario (`make chaos`, loadtests/chaos.py) and the fault it injects:
Gunicorn and two Uvicorn processes on one database, and a Redis, or a Sentinel cluster for
sentinel-failover.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loadtests.clients import start_uvicorns
from loadtests.redis_sentinel import SentinelCluster
from testbed.environment import base_environment
from testbed.redis_server import RedisServer
from testbed.web import WebServer, gunicorn_server

DEFAULT_LAYER = "RedisPubSubChannelLayer"  # the project's default (myproject/settings.py)
# Redis stays away this long in redis-restart: longer than the watch and heartbeat take to notice.
REDIS_OUTAGE_SECONDS = 3.0
FAILOVER_TIMEOUT_SECONDS = 30.0
# Short, so that the presence of a process that died expires within seconds.
PRESENCE_TTL_SECONDS = "3"


@dataclass
class Stack:
    """The processes of one scenario; `fault` breaks something and returns once it has healed."""

    wsgi: WebServer
    asgi: list[WebServer]
    fault: Callable[[], None]
    stop: Callable[[], None]

    def unhandled_errors(self) -> int:
        """Exceptions the servers did not handle (each one a client that saw a 500 or a 1006), as
        Uvicorn, Gunicorn and Django log them."""
        markers = ("Exception in ASGI application", "Error handling request", "Internal Server Error:")
        return sum(server.log().count(marker) for server in [self.wsgi, *self.asgi] for marker in markers)


def start_redis(
    scenario: str, log_dir: Path
) -> tuple[dict[str, str], Callable[[], None], Callable[[], None]]:
    """The Redis side of a scenario: the environment that points the stacks at it, the Redis fault
    (returning once healed) and how to stop it all."""
    if scenario == "sentinel-failover":
        cluster = SentinelCluster(log_dir)
        cluster.start()

        def fail_over() -> None:
            cluster.kill_primary()
            cluster.wait_for_failover(FAILOVER_TIMEOUT_SECONDS)

        return cluster.environment, fail_over, cluster.stop
    redis = RedisServer(log_dir)
    redis.start()

    def kill_and_restart() -> None:
        redis.stop(signal.SIGKILL)
        time.sleep(REDIS_OUTAGE_SECONDS)
        redis.start()

    def stop() -> None:
        redis.stop()

    return {"REDIS_URL": redis.url}, kill_and_restart, stop


def start_stack(scenario: str, log_dir: Path, database_url: str, layer: str = DEFAULT_LAYER) -> Stack:
    redis_env, redis_fault, stop_redis = start_redis(scenario, log_dir)
    env = base_environment(
        DATABASE_URL=database_url,
        CHAT_PRESENCE_TTL_SECONDS=PRESENCE_TTL_SECONDS,
        REDIS_CHANNEL_LAYER=layer,
        **redis_env,
    )
    for name in ("REDIS_URL", "REDIS_SENTINELS"):
        if name not in redis_env:
            env.pop(name, None)
    wsgi = gunicorn_server(env, log_dir)
    processes: list[WebServer] = [wsgi]
    try:
        wsgi.start()
        asgi = start_uvicorns(env, log_dir)
        processes += asgi
    except BaseException:
        for process in processes:
            process.stop()
        stop_redis()
        raise

    def fault() -> None:
        if scenario == "sigterm-asgi":
            asgi[0].stop(signal.SIGTERM)
        else:
            redis_fault()

    def stop() -> None:
        for process in processes:
            process.stop()
        stop_redis()

    return Stack(wsgi, asgi, fault, stop)

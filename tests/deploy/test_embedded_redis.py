"""The embedded Redis (deploy/start-redis.sh, deploy/embedded_redis.py): a quiet start, and a stop
that comes at once, or with --stop-last only after the clients have hung up."""

import signal
from pathlib import Path

import psutil
import pytest
import redis

from testbed.environment import base_environment
from testbed.processes import ROOT, START_TIMEOUT_SECONDS, ManagedProcess, free_port, wait_until

pytestmark = pytest.mark.live

# Well past a stop that waits for nothing (a few hundredths of a second).
STOP_SECONDS = 10


class EmbeddedRedis(ManagedProcess):
    def __init__(self, log_dir: Path, *arguments: str) -> None:
        self.port = free_port()
        env = base_environment(EMBEDDED_REDIS_PORT=str(self.port))
        super().__init__("redis", [str(ROOT / "deploy" / "start-redis.sh"), *arguments], env, log_dir)

    def start(self) -> None:
        super().start()
        wait_until(self.answers, START_TIMEOUT_SECONDS, f"Redis on port {self.port}")

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def answers(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def redis_server(self) -> psutil.Process:
        (server,) = [child for child in psutil.Process(self.pid).children() if child.name() == "redis-server"]
        return server


@pytest.fixture
def embedded_redis(tmp_path):
    started: list[EmbeddedRedis] = []

    def start(*arguments: str) -> EmbeddedRedis:
        server = EmbeddedRedis(tmp_path, *arguments)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.mark.skipif(
    Path("/proc/sys/vm/overcommit_memory").read_text().strip() != "0",
    reason="Redis warns about overcommit only where the kernel's vm.overcommit_memory is 0",
)
def test_the_overcommit_warning_is_left_out_of_the_log_and_the_rest_kept(embedded_redis):
    server = embedded_redis()
    server.stop()

    assert "Ready to accept connections" in server.log()
    assert "overcommit" not in server.log().lower()


def test_a_signal_stops_redis_at_once_even_with_clients_connected(embedded_redis):
    server = embedded_redis()
    with server.client() as client:
        client.ping()
        redis_server = server.redis_server()

        server.process.send_signal(signal.SIGTERM)

        redis_server.wait(STOP_SECONDS)
        assert server.process.wait(STOP_SECONDS) == 0


def test_with_stop_last_redis_waits_for_its_clients_to_hang_up_then_stops(embedded_redis):
    server = embedded_redis("--stop-last")
    with server.client() as client:
        client.ping()
        redis_server = server.redis_server()

        server.process.send_signal(signal.SIGTERM)

        with pytest.raises(psutil.TimeoutExpired):
            redis_server.wait(1)
        assert client.ping()
    redis_server.wait(STOP_SECONDS)
    assert server.process.wait(STOP_SECONDS) == 0


def test_redis_does_not_outlive_a_launcher_killed_outright(embedded_redis):
    server = embedded_redis("--stop-last")
    redis_server = server.redis_server()

    server.process.send_signal(signal.SIGKILL)

    redis_server.wait(STOP_SECONDS)

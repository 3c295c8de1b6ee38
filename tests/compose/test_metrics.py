"""`docker compose --profile metrics up` with debug off and a METRICS_TOKEN: Prometheus finds every
replica of both stacks through Docker's DNS and scrapes it with the token; the open-WebSocket gauge
it sums over the ASGI replicas is the number of chat clients this test holds open. The tests run in
file order on one project: one ASGI replica, then two."""

import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from websockets.sync.client import ClientConnection, connect

from tests.compose.project import ComposeProject, free_port_range

pytestmark = [pytest.mark.compose, pytest.mark.timeout(900)]

CLIENTS = 20
# Two scrapes and a DNS refresh (5 s each, deploy/prometheus/prometheus.yml), with room to spare.
PROMETHEUS_DEADLINE_SECONDS = 40


class MetricsProject(ComposeProject):
    def __init__(self, log_dir: Path, env_file: Path):
        super().__init__(log_dir, env_file)
        self.name = f"metrics-{uuid.uuid4().hex[:8]}"
        self.token = secrets.token_urlsafe(24)
        self.prometheus_port = int(free_port_range(1).split("-")[0])
        self.variables.update(
            COMPOSE_PROFILES="metrics",
            METRICS_TOKEN=self.token,
            PROMETHEUS_HOST_PORT=str(self.prometheus_port),
        )

    def query(self, promql: str) -> list[dict]:
        response = requests.get(
            f"http://127.0.0.1:{self.prometheus_port}/api/v1/query", params={"query": promql}, timeout=10
        )
        response.raise_for_status()
        return response.json()["data"]["result"]

    def value_of(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, promql: str, expected: float) -> None:
        deadline = time.monotonic() + PROMETHEUS_DEADLINE_SECONDS
        while (seen := self.value_of(promql)) != expected:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{promql} is {seen}, not {expected}, after {PROMETHEUS_DEADLINE_SECONDS} s"
                )
            time.sleep(1)


def chat_reader(port: int) -> ClientConnection:
    """An anonymous chat client (a reader), straight to one ASGI replica."""
    return connect(
        f"ws://127.0.0.1:{port}/ws/chat/lobby/",
        origin=f"http://127.0.0.1:{port}",
        proxy=None,
        open_timeout=10,
    )


@pytest.fixture(scope="module")
def project(docker_engine, server_logs, tmp_path_factory) -> Iterator[MetricsProject]:
    env_file = tmp_path_factory.mktemp("metrics") / ".env"
    env_file.write_text(
        "DJANGO_DEBUG=0\n"
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"POSTGRES_PASSWORD={secrets.token_urlsafe(16)}\n"
        "DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost\n"
    )
    project = MetricsProject(server_logs, env_file)
    try:
        project.up()
        yield project
    finally:
        project.down()


def test_without_the_token_a_replica_refuses_metrics(project):
    (port,) = project.ports("asgi", 8002)

    assert requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 404


def test_prometheus_scrapes_every_stack_with_the_token(project):
    project.wait_for('count(up{job=~"wsgi|asgi"} == 1)', 2)


def test_the_summed_websocket_gauge_is_the_number_of_chat_clients_held_open(project):
    (port,) = project.ports("asgi", 8002)
    with ExitStack() as clients:
        for _ in range(CLIENTS):
            clients.enter_context(chat_reader(port))

        project.wait_for("sum(asgi_websocket_connections)", CLIENTS)

    project.wait_for("sum(asgi_websocket_connections)", 0)


def test_a_scaled_out_replica_appears_as_a_new_target(project):
    # --no-deps: the new replica only; the database, Redis and the migration are already up.
    project.compose("up", "--detach", "--wait", "--no-deps", "--scale", "asgi=2", "asgi", timeout=300)

    project.wait_for('count(up{job="asgi"} == 1)', 2)


def test_the_gauge_sums_the_clients_of_both_asgi_replicas(project):
    first, second = project.ports("asgi", 8002)
    with ExitStack() as clients:
        for index in range(CLIENTS):
            clients.enter_context(chat_reader(first if index % 2 else second))

        project.wait_for("sum(asgi_websocket_connections)", CLIENTS)
        per_replica = [
            float(series["value"][1]) for series in project.query('asgi_websocket_connections{job="asgi"}')
        ]

    assert sorted(per_replica) == [CLIENTS / 2, CLIENTS / 2]

"""/metrics on a real Gunicorn (3 sync workers) and a real Uvicorn (2 workers), started by their
start scripts: the numbers of every worker add up, and only the scraper may read them."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

from testbed.environment import base_environment
from testbed.processes import wait_until
from testbed.web import WebServer, gunicorn_server, uvicorn_server
from tests.metrics.exposition import TOKEN, per_process, scrape

pytestmark = pytest.mark.live

# The scraper's network as the servers see it: loopback is the trusted proxy (FORWARDED_ALLOW_IPS),
# so a test names the client's address in X-Forwarded-For, as nginx would.
SCRAPER_NETWORK = "10.9.0.0/16"
SCRAPER_ADDRESS = "10.9.8.7"
OUTSIDER_ADDRESS = "10.10.0.1"
REQUESTS = 120


def metrics_environment(live_database, redis_url: str, directory: Path) -> dict[str, str]:
    return base_environment(
        DATABASE_URL=live_database.url,
        REDIS_URL=redis_url,
        METRICS_TOKEN=TOKEN,
        METRICS_ALLOW_FROM=SCRAPER_NETWORK,
        FORWARDED_ALLOW_IPS="127.0.0.1",
        PROMETHEUS_MULTIPROC_DIR=str(directory),
    )


class Stack:
    def __init__(self, server: WebServer, directory: Path):
        self.server = server
        self.directory = directory
        self.url = server.url


@pytest.fixture(scope="module")
def stacks(live_database, shared_redis_url, server_logs, tmp_path_factory) -> Iterator[dict[str, Stack]]:
    directories = {name: tmp_path_factory.mktemp(f"metrics-{name}") for name in ("wsgi", "asgi")}
    # A file a previous run left behind: the start script must not count it again.
    (directories["wsgi"] / "counter_1.db").write_bytes(b"stale")
    servers = {
        "wsgi": gunicorn_server(
            metrics_environment(live_database, shared_redis_url, directories["wsgi"]), server_logs, workers=3
        ),
        "asgi": uvicorn_server(
            metrics_environment(live_database, shared_redis_url, directories["asgi"]), server_logs, workers=2
        ),
    }
    for server in servers.values():
        server.launch()
    try:
        for server in servers.values():
            server.wait_until_ready()
        yield {name: Stack(server, directories[name]) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(params=["wsgi", "asgi"])
def stack(request, stacks) -> Stack:
    return stacks[request.param]


def test_the_start_script_empties_the_metrics_directory(stacks):
    assert not (stacks["wsgi"].directory / "counter_1.db").exists()


def test_requests_spread_over_the_workers_add_up_in_one_scrape(stack):
    labels = {"view": "healthz", "status": "200"}
    before = scrape(stack.url, **labels).get(_requests_sample(stack), 0.0)

    # Several at once, so that more than one worker takes some.
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(lambda _: requests.get(f"{stack.url}/healthz", timeout=10).status_code, range(REQUESTS))
        )

    assert statuses == [200] * REQUESTS
    assert scrape(stack.url, **labels)[_requests_sample(stack)] == before + REQUESTS
    served = per_process(stack.directory, "django_http_requests_total", **labels)
    assert len([pid for pid, count in served.items() if count > 0]) >= 2, served


def _requests_sample(stack: Stack) -> str:
    interface = "wsgi" if stack.server.name == "gunicorn" else "asgi"
    return f"django_http_requests_total{{interface={interface},status=200,view=healthz}}"


def test_the_latency_histogram_counts_every_request(stack):
    scraped = scrape(stack.url, view="healthz")
    interface = "wsgi" if stack.server.name == "gunicorn" else "asgi"

    count = scraped[f"django_http_request_duration_seconds_count{{interface={interface},view=healthz}}"]
    infinite = scraped[
        f"django_http_request_duration_seconds_bucket{{interface={interface},le=+Inf,view=healthz}}"
    ]
    requested = scraped[_requests_sample(stack)]

    assert count == infinite == requested


def test_the_token_opens_metrics(stack):
    response = requests.get(f"{stack.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")


def test_an_address_in_metrics_allow_from_opens_metrics(stack):
    response = requests.get(f"{stack.url}/metrics", headers={"X-Forwarded-For": SCRAPER_ADDRESS}, timeout=10)

    assert response.status_code == 200
    assert "django_http_requests_total" in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Forwarded-For": OUTSIDER_ADDRESS},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": TOKEN},
    ],
    ids=["anonymous", "address-outside", "wrong-token", "token-without-bearer"],
)
def test_anyone_else_gets_the_sites_404(stack, headers):
    response = requests.get(f"{stack.url}/metrics", headers=headers, timeout=10)

    assert response.status_code == 404
    assert "django_http_requests_total" not in response.text


def test_open_websockets_of_every_uvicorn_worker_add_up(stacks):
    asgi = stacks["asgi"]
    sockets = 12
    with ExitStack() as stack:
        for _ in range(sockets):
            stack.enter_context(_notifications_socket(asgi))
        wait_until(lambda: _open_sockets(asgi) == sockets, 10, f"{sockets} open sockets in /metrics")
        held = per_process(asgi.directory, "asgi_websocket_connections")

    assert sum(held.values()) == sockets
    wait_until(lambda: _open_sockets(asgi) == 0, 10, "no open socket in /metrics once closed")


def test_a_killed_uvicorn_worker_no_longer_counts_its_sockets(stacks):
    asgi = stacks["asgi"]
    with ExitStack() as stack:
        for _ in range(8):
            stack.enter_context(_notifications_socket(asgi))
        wait_until(lambda: _open_sockets(asgi) == 8, 10, "8 open sockets in /metrics")
        held = per_process(asgi.directory, "asgi_websocket_connections")
        victim, lost = max(held.items(), key=lambda item: item[1])

        # SIGKILL: the worker closes nothing and its gauge file stays; Uvicorn starts another.
        os.kill(victim, signal.SIGKILL)

        wait_until(lambda: _open_sockets(asgi) == 8 - lost, 10, f"{8 - lost} open sockets after the kill")


def test_gunicorn_forgets_a_dead_workers_gauges_before_any_scrape(stacks):
    wsgi = stacks["wsgi"]
    gauge_files = sorted(wsgi.directory.glob("gauge_livesum_*.db"))
    victim = int(gauge_files[0].stem.rsplit("_", 1)[1])

    os.kill(victim, signal.SIGKILL)

    # child_exit (metrics/gunicorn_hooks.py) runs in the arbiter as it reaps the worker.
    wait_until(lambda: not gauge_files[0].exists(), 10, f"worker {victim}'s gauge file removed")


def _open_sockets(stack: Stack) -> float:
    return scrape(stack.url)["asgi_websocket_connections{}"]


def _notifications_socket(stack: Stack):
    return connect(
        f"ws://127.0.0.1:{stack.server.port}/ws/notifications/",
        origin=f"http://127.0.0.1:{stack.server.port}",
        proxy=None,
        open_timeout=10,
    )

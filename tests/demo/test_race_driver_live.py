"""The race's driver in a process of its own, as `make run` starts it (deploy/start-race-driver.sh):
Gunicorn, Uvicorn with two workers and the driver, each through its start script, each knowing the
others' ports. A blocking lane stalls the event loops it lands on, never the driver: the lanes raced
with it are sent, and their answers read, on time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import requests
from websockets.sync.client import connect

from testbed.environment import base_environment
from testbed.web import WebServer, gunicorn_server, race_driver_server, uvicorn_server
from tests.demo.conftest import RACE_TIMEOUT_SECONDS

pytestmark = pytest.mark.live

WORKERS = 2  # `make run` on a two-core machine: two Gunicorn workers, two Uvicorn workers
WAIT_MS = 500
N = 12
# How late the driver may send a lane, or read its answer once the server has sent it: scheduling
# on a busy machine, far below one blocked wait. A driver on the raced stack reads late by whole
# waits: each blocking request that lands on its worker stops it for WAIT_MS.
LAG_MS = WAIT_MS / 2


@pytest.fixture(scope="module")
def make_run_layout(live_database, shared_redis_url, server_logs) -> Iterator[dict[str, WebServer]]:
    env = base_environment(
        DATABASE_URL=live_database.url,
        REDIS_URL=shared_redis_url,
        DJANGO_DEBUG="1",
        # Two blocking lanes at a time (demo/probe_slots.py): each next one is sent while a worker
        # is blocked, so the other worker, whichever it is, accepts it.
        DJANGO_DEMO_PROBE_SLOTS="2",
    )
    for name in ("RACE_WSGI_URL", "RACE_ASGI_URL", "RACE_DRIVER_PORT", "WSGI_STACK_PORT", "ASGI_STACK_PORT"):
        env.pop(name, None)
    servers = {
        "wsgi": gunicorn_server(env, server_logs, workers=WORKERS),
        "asgi": uvicorn_server(env, server_logs, workers=WORKERS),
        "driver": race_driver_server(env, server_logs),
    }
    # What the Makefile exports to every process of `make run`.
    ports = {
        "WSGI_PORT": str(servers["wsgi"].port),
        "ASGI_PORT": str(servers["asgi"].port),
        "RACE_DRIVER_PORT": str(servers["driver"].port),
        "WSGI_STACK_PORT": str(servers["wsgi"].port),
        "ASGI_STACK_PORT": str(servers["asgi"].port),
    }
    started = []
    try:
        for server in servers.values():
            server.env.update(ports)
            server.start()
            started.append(server)
        yield servers
    finally:
        for server in started:
            server.stop()


def race_from_the_page(page_server: WebServer, race: dict) -> list[dict]:
    """A race through the socket the race page opens (its data-socket-port), every frame of it."""
    page = requests.get(f"{page_server.url}/demo/race/", timeout=10).text
    (port,) = re.findall(r'data-socket-port="(\d+)"', page)
    frames = []
    with connect(
        f"ws://127.0.0.1:{port}/ws/race/", origin=page_server.url, proxy=None, open_timeout=10
    ) as socket:
        frames.append(json.loads(socket.recv(timeout=10)))
        socket.send(json.dumps({"type": "race", **race}))
        while frames[-1]["type"] not in {"race.finished", "error"}:
            frames.append(json.loads(socket.recv(timeout=RACE_TIMEOUT_SECONDS)))
    return frames


def test_the_race_page_opens_its_socket_on_the_drivers_own_port(make_run_layout):
    for stack in ("wsgi", "asgi"):
        page = requests.get(f"{make_run_layout[stack].url}/demo/race/", timeout=10).text

        assert f'data-socket-port="{make_run_layout["driver"].port}"' in page


# Which Uvicorn worker accepts each blocking request is the kernel's and the event loops' call, and
# a stall shows only when an answer arrives during it: racing a few times makes both happen, were
# the driver in one of those workers (two of four attempts failed so).
@pytest.mark.parametrize("attempt", range(4))
def test_a_blocking_lane_does_not_delay_the_lanes_raced_with_it(make_run_layout, attempt):
    frames = race_from_the_page(
        make_run_layout["wsgi"],
        {
            "probe": "sleep",
            "params": {"ms": WAIT_MS},
            "n": N,
            "groups": ["blocking-asgi", "def-wsgi"],
            "order": "together",
        },
    )
    lanes = [frame for frame in frames if frame["type"] == "lane" and frame["group"] == "def-wsgi"]
    blocking = [frame for frame in frames if frame["type"] == "lane" and frame["group"] == "blocking-asgi"]

    assert len(lanes) == len(blocking) == N
    assert all("error" not in lane for lane in lanes + blocking), frames
    # The blocking lanes did block: their event loops served them one after another.
    assert max(lane["ended"] for lane in blocking) >= N / WORKERS * WAIT_MS - LAG_MS
    # All sent at once (after the driver asked each stack for its slots, which takes the same time
    # for every lane), and each answer read as soon as the server sent it.
    assert max(lane["sent"] for lane in lanes) - min(lane["sent"] for lane in lanes) <= LAG_MS
    for lane in lanes:
        assert lane["received"] - lane["ended"] <= LAG_MS, lane

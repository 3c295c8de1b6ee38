"""Both stacks set up for the race page as `make run` sets them up: debug on, each stack knowing the
other's address (RACE_WSGI_URL, RACE_ASGI_URL) and the WSGI pages sending their socket to the ASGI
port (ASGI_STACK_PORT)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from testbed.environment import base_environment
from testbed.web import gunicorn_server, uvicorn_server
from tests.conftest import Stacks

# Gunicorn's sync workers in these tests: the Little's-law limit the race must find and report.
WSGI_WORKERS = 2
# The longest a live race may take here, for the socket's read timeout: a shared 2-core machine.
RACE_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="session")
def race_stacks(live_database, shared_redis_url, server_logs) -> Iterator[Stacks]:
    # No probe slots: these races measure the servers' own limits, which the demo's bound would
    # halve (tests/demo/test_probe_slots_live.py races with it).
    env = base_environment(
        DATABASE_URL=live_database.url,
        REDIS_URL=shared_redis_url,
        DJANGO_DEBUG="1",
        DJANGO_DEMO_PROBE_SLOTS="0",
    )
    stacks = Stacks(
        gunicorn_server(env, server_logs, workers=WSGI_WORKERS), uvicorn_server(env, server_logs), env
    )
    for server in (stacks.wsgi, stacks.asgi):
        server.env.update(
            RACE_WSGI_URL=stacks.wsgi.url,
            RACE_ASGI_URL=stacks.asgi.url,
            ASGI_STACK_PORT=str(stacks.asgi.port),
        )
    # Gunicorn's race page opens its socket on Uvicorn, from Gunicorn's origin: trusted, as
    # `make run` trusts it by setting WSGI_STACK_PORT too (myproject/realtime/origin.py).
    stacks.asgi.env["DJANGO_CSRF_TRUSTED_ORIGINS"] = stacks.wsgi.url
    stacks.wsgi.start()
    try:
        stacks.asgi.start()
        yield stacks
    finally:
        stacks.wsgi.stop()
        stacks.asgi.stop()


def race_frames(stacks: Stacks, race: dict) -> list[dict]:
    """Every frame of one race through /ws/race/ on the ASGI stack, the ready frame first."""
    frames = []
    with connect(
        f"ws://127.0.0.1:{stacks.asgi.port}/ws/race/",
        origin=f"http://127.0.0.1:{stacks.wsgi.port}",
        proxy=None,
        open_timeout=10,
    ) as socket:
        frames.append(json.loads(socket.recv(timeout=10)))
        socket.send(json.dumps({"type": "race", **race}))
        while frames[-1]["type"] not in {"race.finished", "error"}:
            frames.append(json.loads(socket.recv(timeout=RACE_TIMEOUT_SECONDS)))
    return frames

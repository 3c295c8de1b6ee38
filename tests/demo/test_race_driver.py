"""The driver's helpers (demo/race_driver.py): which addresses it races, the Host it sends, and what it
accepts as a probe's answer. The driver itself runs against real servers in test_race_live.py."""

import asyncio
import json
import time

import httpx
import pytest

from demo import race_driver
from demo.race_driver import group_limit, host_header, probe_answer, raced_stacks, run_race
from demo.race_rules import race_from

ANSWER = {"began_ms": 1.0, "ended_ms": 2.0, "pid": 7, "thread": "MainThread", "worker_pool": None}


def test_the_stacks_come_from_the_settings_whatever_the_socket(settings):
    settings.RACE_WSGI_URL, settings.RACE_ASGI_URL = "http://wsgi:8001", "http://asgi:8002"

    assert raced_stacks(("10.0.0.5", 9999)) == {"wsgi": "http://wsgi:8001", "asgi": "http://asgi:8002"}


@pytest.mark.parametrize(
    ("server", "url"),
    [
        (("127.0.0.1", 8000), "http://127.0.0.1:8000"),
        (("0.0.0.0", 8000), "http://127.0.0.1:8000"),
        (("::", 8000), "http://[::1]:8000"),
        (("::1", 8000), "http://[::1]:8000"),
    ],
)
def test_without_settings_the_asgi_stack_is_the_server_the_socket_arrived_on(settings, server, url):
    settings.RACE_WSGI_URL = settings.RACE_ASGI_URL = ""

    assert raced_stacks(server) == {"asgi": url}
    assert raced_stacks(None) == {}


@pytest.mark.parametrize(
    ("allowed", "host"),
    [(["localhost", "127.0.0.1"], "localhost"), ([".example.com"], "example.com"), (["*"], "wsgi:8001")],
)
def test_the_host_header_is_one_the_stacks_accept(settings, allowed, host):
    settings.ALLOWED_HOSTS = allowed

    assert host_header("http://wsgi:8001") == host


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(400, json={"error": "ms must be..."}),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, json={"probe": "sleep"}),
        httpx.Response(200, json={**ANSWER, "pid": "7"}),
        httpx.Response(301, headers={"Location": "https://localhost/"}),
    ],
)
def test_anything_but_a_probes_answer_fails_the_lane(response):
    with pytest.raises(ValueError, match=r"HTTP|not a probe"):
        probe_answer(response)


def test_a_non_json_answer_fails_the_lane():
    with pytest.raises(json.JSONDecodeError):  # a ValueError, which the driver turns into a failed lane
        probe_answer(httpx.Response(200, text="<html>"))


def test_the_limit_is_the_servers_worker_pool_when_it_reports_one():
    race = race_from({"probe": "sleep", "params": {"ms": 500}, "n": 50, "groups": ["def-wsgi"]})
    pool = {"server": "gunicorn", "processes": 5, "threads": 1, "slots": 5}

    limit = group_limit(race, "def-wsgi", [{**ANSWER, "worker_pool": pool}])

    assert limit["slots"] == 5
    assert limit["source"] == "server"
    assert group_limit(race, "async-asgi", [ANSWER])["slots"] is None
    assert group_limit(race, "blocking-asgi", [ANSWER, {**ANSWER, "pid": 8}])["slots"] == 2


async def test_a_race_against_a_server_that_never_answers_ends_at_the_time_limit(monkeypatch):
    """A real socket that accepts and stays silent: the driver stops waiting, says so, and never
    starts the groups still to come."""
    monkeypatch.setattr(race_driver, "MAX_RACE_SECONDS", 0.5)
    held: list[asyncio.StreamWriter] = []

    async def accept_and_stay_silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept_and_stay_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    race = race_from({"probe": "sleep", "params": {"ms": 10}, "n": 3, "groups": ["async-asgi", "def-asgi"]})
    frames: list[dict] = []

    async def collect(frame: dict) -> None:
        frames.append(frame)

    started = time.monotonic()
    async with server:
        await run_race(race, {"asgi": f"http://127.0.0.1:{port}"}, collect)
        for writer in held:
            writer.close()
    took = time.monotonic() - started

    assert [frame["type"] for frame in frames] == ["race.started", "race.finished"]
    assert frames[-1]["timed_out"] is True
    assert took < 5

"""The race's server-side driver against real Gunicorn, Uvicorn and Redis: the frames it streams, and
the shapes WSGI and ASGI give them. Timings are checked only where they follow from the servers'
limits (N / slots turns of a wait), with generous margins."""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import pairwise

import pytest
import requests

from testbed.environment import base_environment
from testbed.web import runserver
from tests.conftest import Stacks
from tests.demo.conftest import WSGI_WORKERS, race_frames

pytestmark = pytest.mark.live

WAIT_MS = 300
N = 12
# Clocks: the driver and the servers read the same machine's clock, to the millisecond.
CLOCK_SLACK_MS = 5


def by_type(frames: list[dict]) -> dict[str, list[dict]]:
    grouped = defaultdict(list)
    for frame in frames:
        grouped[frame["type"]].append(frame)
    return grouped


@pytest.fixture(scope="module")
def quadrants_race(race_stacks) -> dict[str, list[dict]]:
    race = {
        "probe": "sleep",
        "params": {"ms": WAIT_MS},
        "n": N,
        "groups": ["def-wsgi", "async-asgi", "def-asgi"],
    }
    return by_type(race_frames(race_stacks, race))


def lanes_of(frames: dict[str, list[dict]], group: str) -> list[dict]:
    return sorted((lane for lane in frames["lane"] if lane["group"] == group), key=lambda lane: lane["index"])


def finished(frames: dict[str, list[dict]], group: str) -> dict:
    return next(frame for frame in frames["group.finished"] if frame["group"] == group)


def test_the_driver_names_both_stacks_then_streams_every_lane_and_a_summary(quadrants_race):
    (ready,) = quadrants_race["ready"]
    (started,) = quadrants_race["race.started"]
    (done,) = quadrants_race["race.finished"]

    assert ready["stacks"] == ["asgi", "wsgi"]
    assert started["mode"] == "server"
    assert [group["path"] for group in started["groups"]] == [
        f"/demo/sync/sleep/?ms={WAIT_MS}",
        f"/demo/async/sleep/?ms={WAIT_MS}",
        f"/demo/sync/sleep/?ms={WAIT_MS}",
    ]
    assert "error" not in quadrants_race
    assert done["timed_out"] is False
    for group in ("def-wsgi", "async-asgi", "def-asgi"):
        lanes = lanes_of(quadrants_race, group)
        assert [lane["index"] for lane in lanes] == list(range(N))
        assert finished(quadrants_race, group)["ok"] == N
        for lane in lanes:
            assert "error" not in lane, lane
            assert (
                lane["sent"] - CLOCK_SLACK_MS
                <= lane["began"]
                <= lane["ended"]
                <= lane["received"] + CLOCK_SLACK_MS
            )
            assert lane["ended"] - lane["began"] >= WAIT_MS - 1


def test_gunicorn_reports_its_workers_and_serves_one_request_per_worker_at_a_time(quadrants_race):
    summary = finished(quadrants_race, "def-wsgi")
    lanes = lanes_of(quadrants_race, "def-wsgi")

    assert summary["limit"]["slots"] == WSGI_WORKERS
    assert summary["limit"]["source"] == "server"
    assert summary["predicted_ms"] == math.ceil(N / WSGI_WORKERS) * WAIT_MS
    assert len({lane["pid"] for lane in lanes}) == WSGI_WORKERS
    # N waits, WSGI_WORKERS at a time: no fewer turns than that, whatever the machine's load.
    assert summary["wall_ms"] >= (N / WSGI_WORKERS) * WAIT_MS * 0.95
    for pid in {lane["pid"] for lane in lanes}:
        served = sorted((lane["began"], lane["ended"]) for lane in lanes if lane["pid"] == pid)
        assert all(earlier[1] <= later[0] + CLOCK_SLACK_MS for earlier, later in pairwise(served))


def test_one_uvicorn_process_holds_every_async_request_at_once(quadrants_race):
    summary = finished(quadrants_race, "async-asgi")
    lanes = lanes_of(quadrants_race, "async-asgi")

    assert summary["limit"]["slots"] is None
    assert summary["predicted_ms"] == WAIT_MS
    assert len({lane["pid"] for lane in lanes}) == 1
    assert len({lane["thread_id"] for lane in lanes}) == 1  # the event loop's
    # All N at once: far less than the turns Gunicorn needs.
    assert summary["wall_ms"] < finished(quadrants_race, "def-wsgi")["wall_ms"] / 2


def test_under_asgi_each_def_view_gets_a_thread_of_its_own(quadrants_race):
    lanes = lanes_of(quadrants_race, "def-asgi")

    assert len({lane["pid"] for lane in lanes}) == 1
    assert len({lane["thread_id"] for lane in lanes}) > 1
    assert finished(quadrants_race, "def-asgi")["wall_ms"] < finished(quadrants_race, "def-wsgi")["wall_ms"]


def test_the_blocking_view_serialises_the_uvicorn_worker(race_stacks):
    frames = by_type(
        race_frames(
            race_stacks, {"probe": "sleep", "params": {"ms": 200}, "n": 6, "groups": ["blocking-asgi"]}
        )
    )
    summary = finished(frames, "blocking-asgi")
    served = sorted((lane["began"], lane["ended"]) for lane in lanes_of(frames, "blocking-asgi"))

    assert summary["limit"] == {**summary["limit"], "slots": 1, "source": "observed"}
    assert summary["wall_ms"] >= 6 * 200 * 0.95
    assert all(earlier[1] <= later[0] + CLOCK_SLACK_MS for earlier, later in pairwise(served))


def test_a_bad_race_gets_an_error_frame_from_the_real_driver(race_stacks):
    frames = race_frames(
        race_stacks, {"probe": "sleep", "params": {"ms": 500}, "n": 10_000, "groups": ["def-wsgi"]}
    )

    assert frames[-1]["type"] == "error"
    assert frames[-1]["code"] == "invalid_race"


def test_gunicorn_probe_answers_carry_the_worker_pool_and_uvicorns_none(race_stacks):
    wsgi = requests.get(f"{race_stacks.wsgi.url}/demo/sync/hello/", timeout=10).json()
    asgi = requests.get(f"{race_stacks.asgi.url}/demo/sync/hello/", timeout=10).json()

    assert wsgi["worker_pool"] == {"server": "gunicorn", "processes": WSGI_WORKERS, "threads": 1, "slots": 2}
    assert asgi["worker_pool"] is None


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_each_stack_lets_the_other_stacks_page_read_its_probes_and_nothing_else(race_stacks, stack):
    server, other = (
        (race_stacks.wsgi, race_stacks.asgi) if stack == "wsgi" else (race_stacks.asgi, race_stacks.wsgi)
    )
    origin = {"Origin": f"http://127.0.0.1:{other.port}"}

    probe = requests.get(f"{server.url}/demo/async/hello/", headers=origin, timeout=10)
    page = requests.get(f"{server.url}/demo/race/", headers=origin, timeout=10)

    assert probe.headers["Access-Control-Allow-Origin"] == origin["Origin"]
    assert "Access-Control-Allow-Origin" not in page.headers


def test_under_runserver_the_page_says_one_stack_and_the_driver_races_the_asgi_lanes(
    live_database, server_logs
):
    env = base_environment(DATABASE_URL=live_database.url)
    for name in ("REDIS_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "RACE_WSGI_URL", "RACE_ASGI_URL"):
        env.pop(name, None)
    server = runserver(env, server_logs)
    server.start()
    try:
        pid = server.pid
        page = requests.get(f"{server.url}/demo/race/", timeout=10)
        frames = by_type(
            race_frames(
                Stacks(server, server, env),
                {"probe": "sleep", "params": {"ms": 100}, "n": 5, "groups": ["def-wsgi", "async-asgi"]},
            )
        )
    finally:
        server.stop()

    assert 'data-testid="one-stack"' in page.text
    assert "The driver runs in this same process" in page.text
    assert frames["ready"][0]["stacks"] == ["asgi"]
    assert frames["group.skipped"] == [
        {"type": "group.skipped", "group": "def-wsgi", "detail": "no WSGI stack to race here"}
    ]
    assert finished(frames, "async-asgi")["ok"] == 5
    assert {lane["pid"] for lane in frames["lane"]} == {pid}

"""loadtests/locustfile.py, run headless by Locust against both live stacks."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from testbed.environment import base_environment
from testbed.processes import ROOT, free_port, wait_until
from tests.conftest import start_stacks

pytestmark = pytest.mark.live

LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
SHORT_PROBES = ["--sleep-ms", "5", "--fanout-n", "3", "--fanout-ms", "5", "--cpu-ms", "2"]
SYNC_URLS = ["hello/", "sleep/?ms=5", "fanout/?n=3&ms=5", "db/", "cpu/?ms=2"]


@pytest.fixture(scope="module")
def locust_stacks(live_database, shared_redis_url, server_logs):
    """Both stacks as `make run` starts them, but without the demo's probe slots: Locust's users are
    the whole load here, and the slots would answer them 503 (loadtests/README.md says to run Locust
    by hand with DJANGO_DEMO_PROBE_SLOTS=0 for the same reason)."""
    env = base_environment(
        DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url, DJANGO_DEMO_PROBE_SLOTS="0"
    )
    stacks = start_stacks(env, server_logs)
    yield stacks
    stacks.wsgi.stop()
    stacks.asgi.stop()


def run_locust(host: str, folder: Path, *arguments: str, seconds: int = 5) -> dict[str, dict[str, str]]:
    """Locust's statistics by request name."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *arguments]
    command += ["--headless", "--host", host, "--run-time", f"{seconds}s", "--csv", str(folder / "run")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 60)
    with (folder / "run_stats.csv").open(newline="") as file:
        stats = {row["Name"]: row for row in csv.DictReader(file)}
    assert stats, result.stderr
    return stats


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_every_probe_of_both_view_kinds_answers_under_load(locust_stacks, stack, tmp_path):
    host = getattr(locust_stacks, stack).url

    stats = run_locust(host, tmp_path, "SyncProbeUser", "AsyncProbeUser", "-u", "4", "-r", "4", *SHORT_PROBES)

    expected = [f"/demo/{kind}/{url}" for kind in ("sync", "async") for url in SYNC_URLS]
    expected.append("/demo/async/blocking/?ms=5")
    for name in expected:
        assert int(stats[name]["Request Count"]) > 0, name
        assert stats[name]["Failure Count"] == "0", name


def test_tags_pick_one_probe(locust_stacks, tmp_path):
    stats = run_locust(
        locust_stacks.asgi.url, tmp_path, "AsyncProbeUser", "-u", "2", "-r", "2", "--tags", "db", seconds=2
    )

    assert set(stats) == {"/demo/async/db/", "Aggregated"}


def test_the_blocking_neighbour_runs_next_to_the_probe_users(locust_stacks, tmp_path):
    arguments = ["AsyncProbeUser", "BlockingNeighbourUser", "-u", "3", "-r", "3", "--sleep-ms", "20"]

    stats = run_locust(locust_stacks.asgi.url, tmp_path, *arguments, "--tags", "sleep", "blocking-neighbour")

    assert set(stats) == {"/demo/async/sleep/?ms=20", "/demo/async/blocking/?ms=20", "Aggregated"}


def test_chat_user_reports_connect_and_round_trip_in_locusts_statistics(locust_stacks, tmp_path):
    arguments = ["ChatUser", "-u", "3", "-r", "3", "--chat-wait", "0.3", "--chat-room", "locust-test"]

    stats = run_locust(locust_stacks.asgi.url, tmp_path, *arguments, seconds=6)

    connect = stats["connect /ws/chat/locust-test/"]
    round_trip = stats["round-trip (send until echoed)"]
    assert (connect["Type"], connect["Request Count"], connect["Failure Count"]) == ("WS", "3", "0")
    assert int(round_trip["Request Count"]) > 0
    assert round_trip["Failure Count"] == "0"
    assert not [name for name in stats if name.startswith("error frame")]


def test_chat_user_against_the_wsgi_stack_reports_a_failed_connect(locust_stacks, tmp_path):
    stats = run_locust(locust_stacks.wsgi.url, tmp_path, "ChatUser", "-u", "1", "-r", "1", seconds=3)

    connect = stats["connect /ws/chat/loadtest/"]
    assert connect["Failure Count"] == connect["Request Count"] == "1"


def test_the_web_ui_serves_the_user_classes_and_probe_options(locust_stacks, tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--class-picker"]
    command += ["--web-host", "127.0.0.1", "--web-port", str(port), "--host", locust_stacks.asgi.url]
    with (tmp_path / "locust.log").open("wb") as log:
        locust = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: web_ui_answers(port), 30, "Locust's web UI")
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=10).text
    finally:
        locust.terminate()
        locust.wait(10)

    for name in (
        "SyncProbeUser",
        "AsyncProbeUser",
        "BlockingNeighbourUser",
        "ChatUser",
        "sleep_ms",
        "chat_room",
    ):
        assert name in page, name


def web_ui_answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    except requests.RequestException:
        return False

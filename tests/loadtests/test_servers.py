"""Every server configuration of the harness, started the way the harness starts it."""

import re
import subprocess

import psutil
import pytest
import requests

from loadtests.compare import base_environment
from loadtests.servers import DEPLOY, RunningServer, server_configs
from tests.servers import free_port

pytestmark = pytest.mark.live

WORKERS = 2
# What the home page says served it (myproject/serving.py), per configuration.
SERVER_NAMES = {
    "gunicorn-sync": "gunicorn/27",
    "gunicorn-gthread": "gunicorn/27",
    "granian-wsgi": "Granian",
    "uvicorn": "Uvicorn 0.",
    "gunicorn-uvicorn": "Gunicorn + UvicornWorker",
    "gunicorn-asgi": "Gunicorn (asgi worker)",
    "daphne": "Daphne 4.",
    "granian-asgi": "Granian 2.",
}


def start_server(name: str, database_url: str, redis_url: str, log_dir, cores=None) -> RunningServer:
    env = {**base_environment(database_url, redis_url), "WEB_CONCURRENCY": str(WORKERS)}
    config = server_configs(threads=2)[name]
    server = RunningServer(config, env, free_port(), cores, log_dir / f"{name}.log")
    try:
        server.wait_until_ready()
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module", params=list(SERVER_NAMES))
def running(request, live_database, shared_redis_url, tmp_path_factory):
    """Each configuration, started once for the tests that only look at it."""
    server = start_server(
        request.param, live_database.url, shared_redis_url, tmp_path_factory.mktemp("servers")
    )
    yield server
    server.stop()


def test_configuration_serves_the_probes_over_its_interface(running):
    probe = requests.get(f"{running.url}/demo/async/hello/", timeout=10)
    home = requests.get(f"{running.url}/", timeout=10)

    assert probe.json()["interface"] == running.config.interface
    assert probe.headers["X-Interface"] == running.config.interface
    assert SERVER_NAMES[running.config.name] in re.search(r'data-testid="server">([^<]+)<', home.text).group(
        1
    )


def test_configuration_runs_the_worker_processes_it_is_given(running):
    commands = [" ".join(child.cmdline()) for child in psutil.Process(running.pid).children(recursive=True)]

    # Uvicorn's supervisor also starts multiprocessing's resource tracker, which serves nothing.
    workers = [command for command in commands if "resource_tracker" not in command]
    assert len(workers) == WORKERS, commands


def test_stop_ends_the_master_and_every_worker(live_database, shared_redis_url, tmp_path):
    server = start_server("daphne", live_database.url, shared_redis_url, tmp_path)
    processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]

    server.stop()

    assert not [process for process in processes if process.is_running() and process.status() != "zombie"]


def test_pinning_keeps_the_server_and_its_workers_on_the_cores_given(
    live_database, shared_redis_url, tmp_path
):
    env = {**base_environment(live_database.url, shared_redis_url), "WEB_CONCURRENCY": str(WORKERS)}
    core = min(psutil.Process().cpu_affinity())
    server = RunningServer(
        server_configs(threads=2)["gunicorn-sync"], env, free_port(), {core}, tmp_path / "log"
    )
    try:
        server.wait_until_ready()
        processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]

        assert {tuple(process.cpu_affinity()) for process in processes} == {(core,)}
    finally:
        server.stop()


def test_granian_refuses_an_unknown_interface():
    result = subprocess.run(
        [str(DEPLOY / "start-granian.sh")],
        env={**base_environment("sqlite:///unused", "redis://unused"), "GRANIAN_INTERFACE": "rsgi"},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "GRANIAN_INTERFACE must be wsgi or asgi" in result.stderr

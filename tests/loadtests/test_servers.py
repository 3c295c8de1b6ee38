"""Every server configuration of the harness, started the way the harness starts it."""

import re
import subprocess
from importlib.metadata import version

import psutil
import pytest
import requests

from loadtests.servers import RunningServer, server_configs
from testbed.environment import base_environment
from testbed.processes import free_port
from testbed.web import DEPLOY

pytestmark = pytest.mark.live

WORKERS = 2
# What the home page says served it (myproject/which_stack/served_by.py), per configuration: the
# WSGI environ's SERVER_SOFTWARE, or the ASGI server's name and the installed version of its package.
SERVER_NAMES = {
    "gunicorn-sync": f"gunicorn/{version('gunicorn')}",
    "gunicorn-gthread": f"gunicorn/{version('gunicorn')}",
    "granian-wsgi": "Granian",
    "uvicorn": f"Uvicorn {version('uvicorn')}",
    "gunicorn-uvicorn": f"Gunicorn + UvicornWorker {version('gunicorn')}",
    "gunicorn-asgi": f"Gunicorn (asgi worker) {version('gunicorn')}",
    "daphne": f"Daphne {version('daphne')}",
    "granian-asgi": f"Granian {version('granian')}",
}


def start_server(name: str, database_url: str, redis_url: str, log_dir) -> RunningServer:
    env = base_environment(DATABASE_URL=database_url, REDIS_URL=redis_url, WEB_CONCURRENCY=str(WORKERS))
    config = server_configs(threads=2)[name]
    server = RunningServer(config, env, free_port(), None, log_dir / f"{name}.log")
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


def test_granian_refuses_an_unknown_interface():
    result = subprocess.run(
        [str(DEPLOY / "start-granian.sh")],
        env=base_environment(GRANIAN_INTERFACE="rsgi"),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "GRANIAN_INTERFACE must be wsgi or asgi" in result.stderr

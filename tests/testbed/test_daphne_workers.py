"""Several Daphne processes on one socket (Daphne has no --workers), stopped together."""

import sys

import psutil
import pytest

from testbed.environment import base_environment
from testbed.processes import free_port
from testbed.web import WebServer

pytestmark = pytest.mark.live

WORKERS = 2


@pytest.fixture
def daphnes(live_database, shared_redis_url, tmp_path):
    port = free_port()
    env = base_environment(
        DATABASE_URL=live_database.url,
        REDIS_URL=shared_redis_url,
        ASGI_PORT=str(port),
        WEB_CONCURRENCY=str(WORKERS),
    )
    server = WebServer("daphnes", [sys.executable, "-m", "testbed.daphne_workers"], env, tmp_path, port)
    server.start()
    yield server
    server.stop()


def test_every_worker_is_a_daphne_serving_the_project(daphnes):
    workers = psutil.Process(daphnes.pid).children()

    assert len(workers) == WORKERS
    assert all("daphne" in " ".join(worker.cmdline()) for worker in workers)


def test_stop_ends_the_launcher_and_every_worker(daphnes):
    processes = [psutil.Process(daphnes.pid), *psutil.Process(daphnes.pid).children(recursive=True)]

    daphnes.stop()

    assert not [process for process in processes if process.is_running() and process.status() != "zombie"]


def test_one_worker_dying_takes_the_launcher_down(daphnes):
    psutil.Process(daphnes.pid).children()[0].kill()

    assert psutil.Process(daphnes.pid).wait(10) == 1

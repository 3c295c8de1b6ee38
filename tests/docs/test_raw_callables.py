"""The raw callables of docs/wire.md are real: Gunicorn and Uvicorn serve them, and they answer as
the `hello` probe does, without Django."""

from collections.abc import Iterator

import pytest
import requests
from django.test import Client

from testbed.environment import base_environment
from testbed.processes import ROOT, VENV_BIN, free_port
from testbed.web import WebServer

pytestmark = pytest.mark.live

RAW = ROOT / "docs" / "raw"


def raw_server(name: str, command: list[str], port: int, server_logs) -> Iterator[WebServer]:
    server = WebServer(name, command, base_environment(), server_logs, port, ready_path="/")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gunicorn_hello(server_logs) -> Iterator[WebServer]:
    port = free_port()
    command = [
        str(VENV_BIN / "gunicorn"),
        "--chdir",
        str(RAW),
        "--bind",
        f"127.0.0.1:{port}",
        "hello_wsgi:application",
    ]
    yield from raw_server("gunicorn-raw", command, port, server_logs)


@pytest.fixture
def uvicorn_hello(server_logs) -> Iterator[WebServer]:
    port = free_port()
    command = [
        str(VENV_BIN / "uvicorn"),
        "--app-dir",
        str(RAW),
        "--port",
        str(port),
        "hello_asgi:application",
    ]
    yield from raw_server("uvicorn-raw", command, port, server_logs)


# The raw callables time nothing, and leave out what only the race page (docs/race.md) needs: the
# view's wall-clock times, the thread's id, Gunicorn's worker pool and the stack's probe slots.
RACE_FIELDS = {
    "elapsed_ms",
    "began_ms",
    "ended_ms",
    "thread_id",
    "worker_pool",
    "probe_slots",
    "takes_a_slot",
}


def django_hello_fields() -> set[str]:
    return set(Client().get("/demo/sync/hello/").json()) - RACE_FIELDS


@pytest.mark.parametrize(("fixture", "interface"), [("gunicorn_hello", "wsgi"), ("uvicorn_hello", "asgi")])
def test_the_raw_callable_answers_like_the_hello_probe(request, fixture, interface):
    server = request.getfixturevalue(fixture)

    response = requests.get(f"{server.url}/demo/sync/hello/", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Interface"] == interface
    body = response.json()
    assert set(body) == django_hello_fields()
    assert (body["probe"], body["interface"], body["view_kind"]) == ("hello", interface, "raw")

"""deploy/check_ports.py, `make run`'s first step: a taken port is named with its role and what holds
it, and the message shows a command that starts on free ports instead."""

import re
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from testbed.processes import ROOT, free_port
from testbed.redis_server import RedisServer

# Each case runs a child Python, as `make run` does.
pytestmark = pytest.mark.live


def check_ports(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "deploy/check_ports.py", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A program that is not part of the project, listening on a port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def suggested_ports(stderr: str) -> dict[str, int]:
    (command,) = re.findall(r"^ +make run (.+)$", stderr, re.MULTILINE)
    return {name: int(port) for name, _, port in (word.partition("=") for word in command.split())}


def test_free_ports_pass():
    result = check_ports(f"WSGI_PORT={free_port()}", f"ASGI_PORT={free_port()}")

    assert result.returncode == 0
    assert result.stderr == ""


@pytest.mark.parametrize("port", ["abc", "0", "70000", ""])
def test_a_value_that_is_no_port_number_is_refused_naming_the_variable(port):
    result = check_ports(f"ASGI_PORT={port}")

    assert result.returncode != 0
    assert result.stderr == f"make run: ASGI_PORT must be a port number (1-65535), not {port!r}.\n"


def test_a_port_in_use_is_named_with_its_role(listener):
    taken = listener.getsockname()[1]

    result = check_ports(f"WSGI_PORT={free_port()}", f"ASGI_PORT={taken}")

    assert result.returncode == 1
    assert f"port {taken} (ASGI) is already in use." in result.stderr
    assert "(WSGI)" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_comes_with_a_command_on_a_free_port_for_that_variable_only(listener):
    taken = listener.getsockname()[1]
    wsgi = free_port()

    result = check_ports(f"WSGI_PORT={wsgi}", f"ASGI_PORT={taken}")

    assert "Stop whatever is listening there" in result.stderr
    (suggestion,) = suggested_ports(result.stderr).items()
    assert suggestion[0] == "ASGI_PORT"
    assert suggestion[1] not in {taken, wsgi}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", suggestion[1]))  # free indeed


def test_a_redis_on_the_embedded_redis_port_is_named(tmp_path):
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        result = check_ports(f"EMBEDDED_REDIS_PORT={redis.port}")
    finally:
        redis.stop()

    assert f"port {redis.port} (embedded Redis) is already in use, by a Redis server." in result.stderr
    assert "EMBEDDED_REDIS_PORT=" in result.stderr


def test_a_port_whose_last_connection_lingers_in_time_wait_is_free():
    with socket.socket() as server:
        # As Gunicorn, Uvicorn and Redis do; accepted connections inherit the option.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = server.accept()
            accepted.close()  # the server side closes first: its end of the connection lingers

    result = check_ports(f"ASGI_PORT={port}")

    assert result.returncode == 0, result.stderr

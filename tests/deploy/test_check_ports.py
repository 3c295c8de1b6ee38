import socket
import subprocess
import sys

import pytest

from stacks.processes import ROOT, free_port

# Each case runs a child Python, as a server process would start.
pytestmark = pytest.mark.live


def check_ports(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "deploy/check_ports.py", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_free_ports_pass():
    result = check_ports(f"WSGI={free_port()}", f"ASGI={free_port()}")

    assert result.returncode == 0
    assert result.stderr == ""


def test_a_port_in_use_is_named_with_its_role():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        result = check_ports(f"WSGI={free_port()}", f"ASGI={taken}")

    assert result.returncode == 1
    assert f"port {taken} (ASGI) is already in use" in result.stderr
    assert "WSGI" not in result.stderr

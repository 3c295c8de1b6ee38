"""`make run`, the README's first command, end to end: set-up, both stacks and the embedded Redis,
Ctrl-C, and a port that is already taken."""

import os
import re
import signal
import socket
import subprocess

import psutil
import pytest
import requests
from websockets.sync.client import connect

from testbed.environment import base_environment
from testbed.processes import ROOT, free_port, wait_until
from tests.myproject.which_stack.test_layout import text_of

pytestmark = pytest.mark.live

SETUP_AND_START_SECONDS = 240
# Ctrl-C to the last process gone: the servers stop in about a second, then Redis.
STOP_SECONDS = 30


@pytest.fixture
def run_env(tmp_path) -> dict[str, str]:
    env = base_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
        WSGI_PORT=str(free_port()),
        ASGI_PORT=str(free_port()),
        RACE_DRIVER_PORT=str(free_port()),
        EMBEDDED_REDIS_PORT=str(free_port()),
        WEB_CONCURRENCY="1",
    )
    for name in ("REDIS_URL", "DJANGO_SECRET_KEY", "MAKEFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    return env


def start_make_run(env: dict[str, str], log_path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        # Its own process group, like a terminal's foreground job: Ctrl-C signals all of it.
        return subprocess.Popen(
            ["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def port_is_closed(port: str) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", int(port))) != 0


def test_make_run_serves_both_stacks_with_the_embedded_redis_and_ctrl_c_stops_everything(run_env, tmp_path):
    log_path = tmp_path / "make-run.log"
    make = start_make_run(run_env, log_path)
    wsgi = f"http://127.0.0.1:{run_env['WSGI_PORT']}"
    asgi = f"http://127.0.0.1:{run_env['ASGI_PORT']}"
    driver = f"http://127.0.0.1:{run_env['RACE_DRIVER_PORT']}"
    try:
        wait_until(
            lambda: answers(f"{wsgi}/readyz") and answers(f"{asgi}/readyz") and answers(f"{driver}/healthz"),
            SETUP_AND_START_SECONDS,
            "both stacks and the race's driver to be ready",
            interval=0.5,
        )
        home = requests.get(f"{asgi}/", timeout=10)
        chat_room_on_wsgi = requests.get(f"{wsgi}/chat/lobby/", timeout=10)
        live_page_on_wsgi = requests.get(f"{wsgi}/reports/live/", timeout=10)
        race_page_on_asgi = requests.get(f"{asgi}/demo/race/", timeout=10)
    finally:
        os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(30)
        finally:
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGKILL)
    output = log_path.read_text()

    assert f"http://127.0.0.1:{run_env['WSGI_PORT']}/" in output
    assert f"http://127.0.0.1:{run_env['ASGI_PORT']}/" in output
    assert f"redis://127.0.0.1:{run_env['EMBEDDED_REDIS_PORT']}/0" in output
    assert home.headers["X-Interface"] == "asgi"
    # The chat page Gunicorn serves sends its socket to the ASGI stack.
    assert f'data-socket-port="{run_env["ASGI_PORT"]}"' in chat_room_on_wsgi.text
    assert f'data-socket-port="{run_env["ASGI_PORT"]}"' in live_page_on_wsgi.text
    # The race page, whichever stack served it, sends its socket to the driver's own process.
    assert f'data-socket-port="{run_env["RACE_DRIVER_PORT"]}"' in race_page_on_asgi.text
    # Every page links to itself on the other stack, and the home page names the real ports.
    assert f'data-testid="other-stack" href="http://127.0.0.1:{run_env["WSGI_PORT"]}/"' in home.text
    assert f"through WSGI on port {run_env['WSGI_PORT']}" in text_of(home.text, "layout-explained")
    # Debug is on under make run, so no secret key was needed.
    assert "REDIS_URL is not set" not in output
    for port in ("WSGI_PORT", "ASGI_PORT", "RACE_DRIVER_PORT", "EMBEDDED_REDIS_PORT"):
        wait_until(lambda port=port: port_is_closed(run_env[port]), 10, f"{port} to close after Ctrl-C")


def stop_with_ctrl_c(make: subprocess.Popen) -> None:
    os.killpg(make.pid, signal.SIGINT)
    try:
        make.wait(STOP_SECONDS)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)


def test_ctrl_c_stops_the_servers_before_the_embedded_redis_without_a_traceback(run_env, tmp_path):
    log_path = tmp_path / "make-run.log"
    make = start_make_run(run_env, log_path)
    asgi_port = run_env["ASGI_PORT"]
    try:
        wait_until(
            lambda: answers(f"http://127.0.0.1:{asgi_port}/readyz"),
            SETUP_AND_START_SECONDS,
            "the ASGI stack to be ready",
            interval=0.5,
        )
        processes = psutil.Process(make.pid).children(recursive=True)
        names = {process.name() for process in processes}
        # An open chat socket: Uvicorn's channel layer listens to Redis until the process exits.
        with connect(
            f"ws://127.0.0.1:{asgi_port}/ws/chat/lobby/", origin=f"http://127.0.0.1:{asgi_port}"
        ) as chat:
            chat.recv(timeout=10)  # the history: the socket has joined its group
            stop_with_ctrl_c(make)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
    output = log_path.read_text()

    assert {"redis-server", "gunicorn", "uvicorn"} <= names
    _, still_running = psutil.wait_procs(processes, timeout=STOP_SECONDS)
    assert still_running == []
    assert "Traceback" not in output
    assert "lost Redis" not in output  # what the channel layer logs when Redis goes first
    # Honcho's own lines, in the order the processes stopped: Redis after Uvicorn, its last client.
    stopped = re.findall(r"\| (\w+)\.1 stopped \(rc=", output)
    assert stopped.index("redis") > stopped.index("asgi"), output


def test_a_second_make_run_says_another_one_is_running_and_how_to_pick_other_ports(run_env, tmp_path):
    first = start_make_run(run_env, tmp_path / "first.log")
    try:
        wait_until(
            lambda: (
                answers(f"http://127.0.0.1:{run_env['WSGI_PORT']}/readyz")
                and answers(f"http://127.0.0.1:{run_env['ASGI_PORT']}/readyz")
            ),
            SETUP_AND_START_SECONDS,
            "the first make run to be ready",
            interval=0.5,
        )
        second = subprocess.run(
            ["make", "run"],
            cwd=ROOT,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=SETUP_AND_START_SECONDS,
        )
    finally:
        stop_with_ctrl_c(first)

    assert second.returncode != 0
    assert (
        f"port {run_env['WSGI_PORT']} (WSGI) is already in use, by this project's WSGI stack" in second.stderr
    )
    assert (
        f"port {run_env['ASGI_PORT']} (ASGI) is already in use, by this project's ASGI stack" in second.stderr
    )
    assert "This project is already running (another `make run`" in second.stderr
    assert re.search(
        r"make run WSGI_PORT=\d+ ASGI_PORT=\d+ RACE_DRIVER_PORT=\d+ EMBEDDED_REDIS_PORT=\d+$",
        second.stderr,
        re.MULTILINE,
    )
    assert "Traceback" not in second.stderr


def test_make_run_refuses_a_port_in_use_and_names_it(run_env, tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(run_env["ASGI_PORT"])))
        squatter.listen()
        result = subprocess.run(
            ["make", "run"],
            cwd=ROOT,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=SETUP_AND_START_SECONDS,
        )

    assert result.returncode != 0
    assert f"port {run_env['ASGI_PORT']} (ASGI) is already in use" in result.stderr
    # Refused before anything started: no banner, and neither server nor Redis got to listen.
    assert "Ctrl-C stops everything" not in result.stdout
    assert "Listening at" not in result.stdout + result.stderr  # Gunicorn's first line once bound
    assert "Ready to accept connections" not in result.stdout + result.stderr  # Redis's

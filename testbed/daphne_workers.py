"""Daphne with several worker processes: `python -m testbed.daphne_workers`.

Daphne runs one process and has no --workers option (deploy/start-daphne.sh). Channels' deployment
docs run several processes on one socket (supervisord's fcgi-program with `daphne --fd 0`); this
does the same without supervisord, so Daphne gets as many worker processes as every other server in
the comparison: bind the port once, start WEB_CONCURRENCY Daphne processes that all accept
connections on that socket, stop them together. The options match deploy/start-daphne.sh.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
DAPHNE = str(Path(sys.executable).parent / "daphne")
STOP_TIMEOUT_SECONDS = 10.0


def daphne_command(fd: int) -> list[str]:
    ws_max_size = os.environ.get("WS_MAX_SIZE", "32768")
    return [
        DAPHNE,
        "--fd",
        str(fd),
        "--websocket-max-message-size",
        ws_max_size,
        "--websocket-max-frame-size",
        ws_max_size,
        "--access-log",
        "-",
        "myproject.asgi:application",
    ]


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("ASGI_PORT", "8002"))
    workers = int(os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() or 1)))
    # As deploy/start-daphne.sh: no WebSockets unless told to (the comparison harness measures HTTP).
    os.environ.setdefault("DJANGO_WEBSOCKETS", "0")
    # As the start scripts: Prometheus' client needs its directory to exist when it is named.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    listener = socket.create_server((host, port), backlog=2048)
    listener.set_inheritable(True)
    children = [
        subprocess.Popen(daphne_command(listener.fileno()), cwd=ROOT, pass_fds=[listener.fileno()])
        for _ in range(workers)
    ]
    listener.close()  # the children hold it now

    asked_to_stop = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal asked_to_stop
        asked_to_stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # One worker dying takes the others down, like a server master giving up, so nobody benchmarks
    # a server that quietly lost a worker.
    while not asked_to_stop and all(child.poll() is None for child in children):
        time.sleep(0.2)
    stop(children)
    return 0 if asked_to_stop else 1


def stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())

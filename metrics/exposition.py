"""The text Prometheus scrapes: one set of numbers for all the worker processes of a server."""

import glob
import os
import re

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

# A live gauge's file, named for the process that writes it: gauge_livesum_<pid>.db.
LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db$")


def forget_dead_processes(directory: str) -> None:
    """Remove the live gauges of processes that are gone. Gunicorn's arbiter does this as each
    worker dies (metrics/gunicorn_hooks.py); Uvicorn's supervisor and Granian have no such hook, so
    a worker they replaced would otherwise still count its sockets. Every process of a server
    shares one PID namespace (one machine, or one container), so a PID that does not answer is
    gone."""
    for path in glob.glob(os.path.join(directory, "gauge_live*.db")):
        match = LIVE_GAUGE_FILE.search(path)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)  # signal 0: only asks whether the process exists
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, directory)
        except PermissionError:
            pass  # it exists, under another user


def exposition() -> bytes:
    """Blocking file reads under multiprocess mode: call it from a thread on the event loop."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(REGISTRY)  # one process: its own memory, and its CPU and memory use
    forget_dead_processes(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, directory)
    return generate_latest(registry)

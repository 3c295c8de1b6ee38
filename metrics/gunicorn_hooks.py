"""Gunicorn server hooks, loaded with `--config python:metrics.gunicorn_hooks` (deploy/start-wsgi.sh,
deploy/start-gunicorn-asgi.sh).

The arbiter learns of a worker's death first, so it forgets the worker's gauges at once, as
prometheus-client's documentation asks; metrics/exposition.py would otherwise do it at the next
scrape.
"""

import os
from typing import Any

from prometheus_client import multiprocess


def child_exit(server: Any, worker: Any) -> None:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(worker.pid)

"""environment.json, and the split of the cores it records: what a comparison ran on and with.

Figures from a shared 2-core machine mean little without the machine, the load on it, the versions
and the settings they were measured with, so every results folder carries them.
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from typing import Any

import psutil

from loadtests.plan import CPU_MS, FANOUT_MS, FANOUT_N, SLEEP_MS, Variant
from testbed.machine import cpu_model, git_commit, load_average, package_versions

Cores = set[int] | None


def split_cores() -> tuple[Cores, Cores]:
    """Locust gets the last core this process may use, the server the others. On one core both
    share it (and the report says so)."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None
    return set(cores[:-1]), {cores[-1]}


def environment_facts(
    *,
    quick: bool,
    workers: int,
    threads: int,
    duration: int,
    server_cores: Cores,
    locust_cores: Cores,
    database_url: str,
    variants: list[Variant],
) -> dict[str, Any]:
    """What environment.json records at the start of a run; the harness adds the end."""
    memory = psutil.virtual_memory()
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m loadtests.compare", *sys.argv[1:]]),
        "git_commit": git_commit(),
        "machine": {
            "cpu_model": cpu_model(),
            "cores": os.cpu_count(),
            "memory_gb": round(memory.total / 2**30, 1),
            "os": platform.platform(),
            "load_average_at_start": load_average(),
        },
        "python": platform.python_version(),
        "packages": package_versions(),
        "settings": {
            "mode": "quick" if quick else "full",
            "workers": workers,
            "threads": threads,
            "duration_seconds": duration,
            "server_cores": sorted(server_cores) if server_cores else "shared",
            "locust_cores": sorted(locust_cores) if locust_cores else "shared",
            "database": database_url.split("://", 1)[0],
            "sleep_ms": SLEEP_MS,
            "fanout": {"n": FANOUT_N, "ms": FANOUT_MS},
            "cpu_ms": CPU_MS,
            "django_debug": False,
            "access_logs": "on, as the start scripts run them",
            "variants": {variant.name: dict(variant.env) for variant in variants},
        },
    }

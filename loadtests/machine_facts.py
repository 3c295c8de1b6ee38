"""The machine a comparison ran on: how its cores are split, and what environment.json records.

Figures from a shared 2-core machine mean little without the machine, the load on it, the versions
and the settings they were measured with, so every results folder carries them.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil

from loadtests.plan import CPU_MS, FANOUT_MS, FANOUT_N, SLEEP_MS, Variant
from loadtests.servers import ROOT

PACKAGES = [
    "Django",
    "asgiref",
    "channels",
    "gunicorn",
    "uvicorn",
    "uvicorn-worker",
    "uvloop",
    "httptools",
    "daphne",
    "Twisted",
    "granian",
    "locust",
    "psycopg",
]

Cores = set[int] | None


def split_cores() -> tuple[Cores, Cores]:
    """Locust gets the last core this process may use, the server the others. On one core both
    share it (and the report says so)."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None
    return set(cores[:-1]), {cores[-1]}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_versions() -> dict[str, str]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
        return result.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_average() -> list[float]:
    return [round(load, 2) for load in os.getloadavg()]


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

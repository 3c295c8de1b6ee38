"""The facts of the machine, the code and the packages that a measurement names, so that a figure
can be read next to what produced it (and a reader knows what to rerun on their own machine)."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psutil

from testbed.processes import ROOT, VENV_BIN

# What serves, bridges and measures the two stacks; each benchmark may name more.
PACKAGES = [
    "Django",
    "asgiref",
    "channels",
    "channels-redis",
    "redis",
    "gunicorn",
    "uvicorn",
    "uvicorn-worker",
    "uvloop",
    "httptools",
    "daphne",
    "Twisted",
    "granian",
    "websockets",
    "locust",
    "psycopg",
]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    """The short hash of the checked-out commit, or "unknown" outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    versions = {}
    for package in packages:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def redis_server_version() -> str:
    """`redis-server --version` of the binary the embedded Redis runs."""
    try:
        result = subprocess.run(
            [str(VENV_BIN / "redis-server"), "--version"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def load_average() -> list[float]:
    return [round(load, 2) for load in os.getloadavg()]


def machine_facts() -> dict[str, object]:
    """CPU, cores, memory, OS, load and Python of this machine, right now."""
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "load_average": load_average(),
        "python": platform.python_version(),
    }

"""summary.csv rows written by hand, for the tests of the report (no servers started)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from loadtests.report import write_report
from loadtests.results_csv import SUMMARY_COLUMNS

THREADS = {"gunicorn-sync": 1, "gunicorn-gthread": 4}


def row(server: str, probe: str, view_kind: str, users: int, rps: float, **overrides: object) -> dict:
    interface = "wsgi" if server.startswith(("gunicorn-sync", "gunicorn-gthread", "granian-wsgi")) else "asgi"
    path = {"sleep": "sleep/?ms=100", "fanout": "fanout/?n=5&ms=50", "blocking": "blocking/?ms=100"}
    values = {
        "server": server,
        "interface": interface,
        "probe": probe,
        "view_kind": view_kind,
        "users": users,
        "variant": "default",
        "round": 1,
        "requests": int(rps * 5),
        "rps": rps,
        "p50_ms": 10.0,
        "p95_ms": 20.0,
        "p99_ms": 30.0,
        "failures": 0,
        "server_cpu": 0.9,
        "locust_cpu": 0.3,
        "other_cpu": 0.0,
        "server_cpu_ms_per_request": 1.0,
        "workers": 3,
        "threads_per_worker": THREADS.get(server, ""),
        "url": f"/demo/{view_kind}/{path.get(probe, 'hello/')}",
    }
    values.update(overrides)
    return values


def write_summary_csv(folder: Path, rows: list[dict]) -> Path:
    path = folder / "summary.csv"
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_results(folder: Path, rows: list[dict], environment: dict | None = None) -> str:
    """Write a results folder and its report; the report's text."""
    write_summary_csv(folder, rows)
    (folder / "environment.json").write_text(
        json.dumps(environment or {"machine": {"cpu_model": "Test CPU"}})
    )
    return write_report(folder).read_text()


SLEEP_RUN = [
    row("gunicorn-sync", "sleep", "sync", 10, 29.5),
    row("gunicorn-sync", "sleep", "sync", 200, 29.5),
    row("uvicorn", "sleep", "async", 10, 98.0),
    row("uvicorn", "sleep", "async", 200, 1500.0),
    row("uvicorn", "hello", "async", 200, 1200.0),
    row("gunicorn-sync", "hello", "sync", 200, 2400.0),
]

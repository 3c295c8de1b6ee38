"""What the three reports benchmarks share: the shop database they read, the stacks they run
against (Gunicorn and Uvicorn with one worker each, one Redis), a staff login, and how results are
printed and saved with the facts of the machine that produced them.

The database is a SQLite file under loadtests/results/reports/ unless --database-url names
another (PostgreSQL, say). Seeding is idempotent, so only the first run pays for the 1,000,000
order lines; later runs find them there.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests

from demo.seeding import DEMO_STAFF
from testbed.database import migrate_and_seed, psycopg_url
from testbed.environment import base_environment
from testbed.login import csrf_token, logged_in_session
from testbed.machine import git_commit, package_versions
from testbed.machine import machine_facts as this_machine
from testbed.processes import ROOT
from testbed.redis_server import RedisServer
from testbed.web import WebServer, gunicorn_server, uvicorn_server

RESULTS = ROOT / "loadtests" / "results" / "reports"
DEFAULT_DATABASE_URL = f"sqlite:///{RESULTS / 'shop.sqlite3'}"


@dataclass
class BenchStacks:
    wsgi: WebServer
    asgi: WebServer
    redis: RedisServer
    env: dict[str, str]


def prepare_shop(database_url: str, lines: int) -> None:
    """Migrate and seed `lines` order lines (nothing to do when they are already there)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = base_environment(DATABASE_URL=database_url)
    started = time.monotonic()
    seeded = migrate_and_seed(env, size=lines, timeout=3600)
    shop = next(line for line in seeded.splitlines() if line.startswith("shop:"))
    print(f"database ready in {time.monotonic() - started:.1f} s ({shop})", flush=True)


@contextmanager
def running_stacks(database_url: str, **extra_env: str) -> Iterator[BenchStacks]:
    log_dir = RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(log_dir)
    redis.start()
    env = base_environment(DATABASE_URL=database_url, REDIS_URL=redis.url, **extra_env)
    # One worker each: the measurements follow one serving process.
    wsgi, asgi = gunicorn_server(env, log_dir, workers=1), uvicorn_server(env, log_dir, workers=1)
    try:
        wsgi.start()
        asgi.start()
        yield BenchStacks(wsgi, asgi, redis, env)
    finally:
        for process in (wsgi, asgi, redis):
            process.stop()
    print(f"server logs: {wsgi.log_path}, {asgi.log_path}")


def serving_process(server: WebServer) -> psutil.Process:
    """The process that runs the Django code: Gunicorn's single worker, or Uvicorn itself (with one
    worker Uvicorn serves from its main process)."""
    process = psutil.Process(server.pid)
    children = process.children()
    return children[0] if children else process


def staff_session(server: WebServer) -> tuple[requests.Session, str]:
    """A session logged in as the demo staff user, and a CSRF token for its POSTs."""
    session = logged_in_session(server.url, DEMO_STAFF)
    page = session.get(f"{server.url}/reports/revenue-by-month/", timeout=60)
    return session, csrf_token(page.text)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    milliseconds = [value * 1000 for value in seconds]
    return {
        "count": len(milliseconds),
        "p50_ms": round(statistics.median(milliseconds), 2),
        "p99_ms": round(percentile(milliseconds, 0.99), 2),
        "max_ms": round(max(milliseconds), 2),
        "mean_ms": round(statistics.fmean(milliseconds), 2),
    }


def database_facts(database_url: str) -> dict[str, str]:
    if database_url.startswith("sqlite"):
        return {"vendor": "SQLite", "version": sqlite3.sqlite_version}
    import psycopg

    with psycopg.connect(psycopg_url(database_url)) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        assert row is not None, "SHOW answers one row"
        return {"vendor": "PostgreSQL", "version": row[0]}


def machine_facts(database_url: str) -> dict:
    facts = this_machine()
    load_average = facts.pop("load_average")
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", *sys.argv]),
        "git_commit": git_commit(),
        **facts,
        "load_average_at_start": load_average,
        "packages": package_versions(),
        "database": database_facts(database_url),
    }


def save(name: str, facts: dict, results: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({"machine": facts, "results": results}, indent=2, default=str))
    database = facts["database"]
    print(f"\nmachine: {facts['cpu_model']}, {facts['cores']} cores, {facts['memory_gb']} GB")
    print(f"Python {facts['python']}, {database['vendor']} {database['version']}")
    print(f"load average at start: {facts['load_average_at_start']}")
    print(f"saved: {path.relative_to(ROOT)}")
    return path


def print_table(header: list[str], rows: list[list[object]]) -> None:
    table: list[Sequence[object]] = [header, *rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(*table, strict=True)]
    for row in table:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)))

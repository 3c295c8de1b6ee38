"""CSV export of the 1,000,000-line "order lines" report on each stack: time, size, and the server
process's memory while it streams.

    python -m loadtests.bench_csv [--lines 1000000] [--database-url URL]

Memory is the serving process's peak resident set size during the download, less its size just
before: Linux's VmHWM, reset first through /proc/<pid>/clear_refs, so the peak is exact rather than
sampled. A streamed export should leave it flat however many rows there are; an export built in
memory (or a sync iterator under ASGI, which Django buffers whole) grows with the row count.

Then, to show what the async iterator saves under ASGI, it drains the same export through Django's
ASGI streaming path (StreamingHttpResponse.__aiter__, what Django's ASGI handler iterates) inside
this process, once with the sync iterator and once with the async one, and reports this process's
peak memory growth for each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import warnings
from pathlib import Path

import psutil
import requests

from loadtests.bench_shop import (
    DEFAULT_DATABASE_URL,
    machine_facts,
    prepare_shop,
    print_table,
    running_stacks,
    save,
    serving_process,
)
from testbed.web import WebServer

READ_CHUNK_BYTES = 256 * 1024
# Gunicorn kills a sync worker that has been busy for --timeout seconds (120 in
# deploy/start-wsgi.sh), even in the middle of a response: a sync worker cannot tell the master it
# is alive while it streams. A million rows can take longer than that on a busy machine, so the
# benchmark gives it ten minutes, and reports a download that was cut off anyway.
GUNICORN_TIMEOUT_SECONDS = 600
MB = 1024 * 1024


def reset_peak_memory(process: psutil.Process) -> None:
    Path(f"/proc/{process.pid}/clear_refs").write_text("5")


def peak_memory(process: psutil.Process) -> int:
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/<pid>/status")


def measure(server: WebServer, path: str) -> dict[str, float]:
    process = serving_process(server)
    # A small export first, so imports and connections are in place before the measurement.
    requests.get(f"{server.url}{path}?start=2025-12-31", timeout=60).raise_for_status()
    before = process.memory_info().rss
    reset_peak_memory(process)
    started = time.perf_counter()
    size = lines = 0
    first_byte = None
    complete = True
    with requests.get(f"{server.url}{path}", stream=True, timeout=600) as response:
        response.raise_for_status()
        try:
            for chunk in response.iter_content(READ_CHUNK_BYTES):
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                size += len(chunk)
                lines += chunk.count(b"\n")
        except requests.exceptions.ChunkedEncodingError:
            complete = False
    elapsed = time.perf_counter() - started
    peak = peak_memory(process)
    return {
        "complete": complete,
        "rows": lines - 1,
        "megabytes": round(size / MB, 1),
        "seconds": round(elapsed, 2),
        "rows_per_second": round((lines - 1) / elapsed),
        "first_byte_ms": round((first_byte or 0) * 1000, 1),
        "rss_before_mb": round(before / MB, 1),
        "peak_rss_mb": round(peak / MB, 1),
        "peak_growth_mb": round((peak - before) / MB, 1),
    }


def drained_through_djangos_asgi_path(database_url: str, iterator_name: str) -> dict[str, float]:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-not-for-production")
    import django

    django.setup()
    from django.http import StreamingHttpResponse

    from reports import exports
    from reports.definitions import REPORTS
    from reports.filters import DateRange

    async def drain() -> int:
        chunks = getattr(exports, iterator_name)(REPORTS["order-lines"], DateRange())
        size = 0
        async for part in StreamingHttpResponse(chunks):
            size += len(part)
        return size

    me = psutil.Process()
    before = me.memory_info().rss
    reset_peak_memory(me)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sync iterator's warning is the point, not news
        size = asyncio.run(drain())
    return {
        "megabytes": round(size / MB, 1),
        "seconds": round(time.perf_counter() - started, 2),
        "peak_growth_mb": round((peak_memory(me) - before) / MB, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines in the database")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    options = parser.parse_args(argv)

    prepare_shop(options.database_url, options.lines)
    facts = machine_facts(options.database_url)
    results = {}
    # Anonymous exports allowed: the benchmark measures the stream, not the login in front of it.
    extra_env = {"GUNICORN_TIMEOUT": str(GUNICORN_TIMEOUT_SECONDS), "REPORTS_EXPORT_LOGIN_REQUIRED": "0"}
    with running_stacks(options.database_url, **extra_env) as stacks:
        for label, server in (("Gunicorn (WSGI)", stacks.wsgi), ("Uvicorn (ASGI)", stacks.asgi)):
            print(f"exporting /reports/order-lines/csv/ from {label}...", flush=True)
            results[label] = measure(server, "/reports/order-lines/csv/")

    contrast = {}
    for label, name in (("sync iterator", "csv_chunks"), ("async iterator", "acsv_chunks")):
        print(
            f"draining the export through Django's ASGI path with the {label}, in this process...", flush=True
        )
        contrast[label] = drained_through_djangos_asgi_path(options.database_url, name)

    print()
    columns = [
        "complete",
        "rows",
        "megabytes",
        "seconds",
        "rows_per_second",
        "first_byte_ms",
        "rss_before_mb",
        "peak_growth_mb",
    ]
    print_table(
        ["stack", *columns], [[label, *(row[column] for column in columns)] for label, row in results.items()]
    )
    print("\nDjango's ASGI streaming path, in this process:")
    print_table(
        ["iterator", "megabytes", "seconds", "peak_growth_mb"],
        [[label, *row.values()] for label, row in contrast.items()],
    )
    save(
        "csv",
        facts,
        {"gunicorn_timeout_seconds": GUNICORN_TIMEOUT_SECONDS, **results, "django_asgi_path": contrast},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Report page time on 1,000,000 order lines: each report page on each stack, and the database
query alone, to show that the database does the work and the page adds little.

    python -m loadtests.bench_report_page [--lines 1000000] [--repeat 5] [--database-url URL]

Each page is requested once to warm up, then --repeat times one after another; the figures are the
median and the fastest. "query alone" runs the report's query in this process, through the same
ORM code the view uses, without HTTP or templates.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import requests

from loadtests.bench_shop import (
    DEFAULT_DATABASE_URL,
    machine_facts,
    prepare_shop,
    print_table,
    running_stacks,
    save,
)

PAGES = [
    "/reports/revenue-by-month/",
    "/reports/top-products/",
    "/reports/revenue-by-region/",
    "/reports/order-lines/",
    "/reports/top-products/?start=2025-10-01&end=2025-12-31",
]


def timed(call: Callable[[], None], repeat: int) -> dict[str, float]:
    call()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return {"median_ms": round(statistics.median(seconds) * 1000, 1), "min_ms": round(min(seconds) * 1000, 1)}


def page_request(url: str) -> Callable[[], None]:
    def call() -> None:
        response = requests.get(url, timeout=120)
        response.raise_for_status()

    return call


def query_alone(database_url: str, path: str) -> Callable[[], None]:
    """The page's database work, run here: the same report, date filter and preview as the view."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-not-for-production")
    import django

    django.setup()
    from django.http import QueryDict

    from reports.definitions import get_report_or_404
    from reports.filters import DateRangeForm

    slug, _, query = path.removeprefix("/reports/").partition("/?")
    report = get_report_or_404(slug.rstrip("/"))
    form = DateRangeForm(QueryDict(query))
    form.is_valid()
    date_range = form.date_range()

    def call() -> None:
        rows = report.rows(date_range)  # a fresh queryset each time: an evaluated one caches its rows
        if report.preview_rows:
            rows.count()
            list(rows[: report.preview_rows])
        else:
            list(rows)

    return call


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines in the database")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    options = parser.parse_args(argv)

    prepare_shop(options.database_url, options.lines)
    facts = machine_facts(options.database_url)
    results: dict[str, dict[str, dict[str, float]]] = {path: {} for path in PAGES}
    with running_stacks(options.database_url) as stacks:
        for path in PAGES:
            print(f"{path}...", flush=True)
            results[path]["query alone"] = timed(query_alone(options.database_url, path), options.repeat)
            for label, server in (("Gunicorn (WSGI)", stacks.wsgi), ("Uvicorn (ASGI)", stacks.asgi)):
                results[path][label] = timed(page_request(f"{server.url}{path}"), options.repeat)

    print()
    measures = ["query alone", "Gunicorn (WSGI)", "Uvicorn (ASGI)"]
    print_table(
        ["page", *(f"{measure} ms" for measure in measures)],
        [[path, *(f"{results[path][measure]['median_ms']}" for measure in measures)] for path in PAGES],
    )
    print("(medians; the JSON file also has the fastest run of each)")
    save("report-page", facts, {"lines": options.lines, "repeat": options.repeat, "pages": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""summary.csv, one row per run: the columns, writing them, and reading them back typed.

The harness writes it; the report, its charts and anyone with a spreadsheet read it. Its columns
are the interface between measuring and reporting, so they are defined once, here.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from loadtests.locust_runs import Measurement
from loadtests.plan import PROBES, Run
from loadtests.servers import server_configs

SERVER_ORDER = list(server_configs(threads=1))
PROBE_ORDER = list(PROBES)


@dataclass(frozen=True)
class ResultRow:
    server: str
    interface: str  # "wsgi" or "asgi"
    probe: str
    view_kind: str  # "sync" (a `def` view) or "async" (an `async def` view)
    users: int
    variant: str
    round: int  # which start of the server in this variant
    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failures: int
    server_cpu: float  # cores kept busy on average (1.0 = one core), master and workers together
    locust_cpu: float
    other_cpu: float  # what other processes took of the server's cores meanwhile
    server_cpu_ms_per_request: float
    workers: int
    threads_per_worker: int | None  # None: no fixed limit (ASGI servers)
    url: str


SUMMARY_COLUMNS = [column.name for column in fields(ResultRow)]


def summary_row(run: Run, measured: Measurement, workers: int) -> ResultRow:
    per_request = measured.server_cpu / measured.rps * 1000 if measured.rps else 0.0
    return ResultRow(
        server=run.server.name,
        interface=run.server.interface,
        probe=run.probe.key,
        view_kind=run.view_kind,
        users=run.users,
        variant=run.variant.name,
        round=run.round,
        requests=measured.requests,
        rps=round(measured.rps, 1),
        p50_ms=measured.p50_ms,
        p95_ms=measured.p95_ms,
        p99_ms=measured.p99_ms,
        failures=measured.failures,
        server_cpu=round(measured.server_cpu, 3),
        locust_cpu=round(measured.locust_cpu, 3),
        other_cpu=round(measured.other_cpu, 3),
        server_cpu_ms_per_request=round(per_request, 3),
        workers=workers,
        threads_per_worker=run.server.threads_per_worker,
        url=run.probe.url(run.view_kind),
    )


def write_summary(path: Path, rows: list[ResultRow]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        for row in rows:
            values = asdict(row)
            values["threads_per_worker"] = row.threads_per_worker or ""
            writer.writerow(values)


def read_row(row: dict[str, str]) -> ResultRow:
    return ResultRow(
        server=row["server"],
        interface=row["interface"],
        probe=row["probe"],
        view_kind=row["view_kind"],
        users=int(row["users"]),
        variant=row["variant"],
        round=int(row["round"]),
        requests=int(row["requests"]),
        rps=float(row["rps"]),
        p50_ms=float(row["p50_ms"]),
        p95_ms=float(row["p95_ms"]),
        p99_ms=float(row["p99_ms"]),
        failures=int(row["failures"]),
        server_cpu=float(row["server_cpu"]),
        locust_cpu=float(row["locust_cpu"]),
        # Summaries written before the column existed read as "nothing else ran".
        other_cpu=float(row.get("other_cpu") or 0.0),
        server_cpu_ms_per_request=float(row["server_cpu_ms_per_request"]),
        workers=int(row["workers"]),
        threads_per_worker=int(row["threads_per_worker"]) if row["threads_per_worker"] else None,
        url=row["url"],
    )


class Summary:
    """summary.csv as typed rows, with the look-ups the report needs."""

    def __init__(self, rows: list[ResultRow]) -> None:
        self.rows = rows

    @classmethod
    def read(cls, path: Path) -> Summary:
        with path.open(newline="") as file:
            return cls([read_row(row) for row in csv.DictReader(file)])

    def variant(self, name: str) -> Summary:
        """The rows measured with the servers started in one variant."""
        return Summary([row for row in self.rows if row.variant == name])

    def where(self, **conditions: object) -> list[ResultRow]:
        return [
            row for row in self.rows if all(getattr(row, key) == value for key, value in conditions.items())
        ]

    def one(self, **conditions: object) -> ResultRow | None:
        found = self.where(**conditions)
        return found[0] if found else None

    def servers(self) -> list[str]:
        present = {row.server for row in self.rows}
        return [name for name in SERVER_ORDER if name in present] + sorted(present - set(SERVER_ORDER))

    def probes(self) -> list[str]:
        present = {row.probe for row in self.rows}
        return [name for name in PROBE_ORDER if name in present] + sorted(present - set(PROBE_ORDER))

    def variants(self) -> list[str]:
        return list(dict.fromkeys(row.variant for row in self.rows))


def wait_seconds(url: str) -> float | None:
    """The wait in a sleep probe's URL (…?ms=100 → 0.1)."""
    if "/sleep/" not in url or "ms=" not in url:
        return None
    return int(url.split("ms=", 1)[1].split("&", 1)[0]) / 1000

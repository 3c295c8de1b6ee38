"""The report's tables in Markdown: every run of one probe, and throughput relative to a baseline.

Also the three formatting rules every part of the report shares: a Markdown table, a number with
as many digits as it deserves, a ratio.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from loadtests.results_csv import Summary

# Above this share of its core, Locust itself may be what limits a run.
LOCUST_SATURATED = 0.9
# Above this share of the server's cores taken by other processes, a run measured a slower machine.
OTHERS_BUSY = 0.15
# Gunicorn's sync workers running a `def` view: the classic Django deployment.
BASELINE = ("gunicorn-sync", "sync")


def table(header: list[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "n/a"


def probe_table(summary: Summary, probe: str) -> str:
    rows = sorted(
        summary.where(probe=probe),
        key=lambda row: (summary.servers().index(row.server), row.view_kind != "sync", row.users),
    )
    header = ["server", "view", "users", "req/s", "p50 ms", "p95 ms", "p99 ms", "failures"]
    header += ["server CPU", "CPU ms/req", "Locust CPU", "others' CPU"]
    return table(
        header,
        [
            [
                row.server,
                row.view_kind,
                row.users,
                number(row.rps),
                number(row.p50_ms),
                number(row.p95_ms),
                number(row.p99_ms),
                row.failures,
                f"{row.server_cpu:.2f}",
                f"{row.server_cpu_ms_per_request:.2f}",
                f"{row.locust_cpu:.2f}" + (" ⚠" if row.locust_cpu > LOCUST_SATURATED else ""),
                f"{row.other_cpu:.2f}" + (" ⚠" if row.other_cpu > OTHERS_BUSY else ""),
            ]
            for row in rows
        ],
    )


def ratio_table(summary: Summary) -> str:
    """Throughput at each probe's highest concurrency, relative to the baseline."""
    server, view_kind = BASELINE
    probes = [
        probe for probe in summary.probes() if summary.where(probe=probe, server=server, view_kind=view_kind)
    ]
    if not probes:
        return "Not measured in this run (no probe ran on Gunicorn's sync workers)."
    tops = {probe: max(row.users for row in summary.where(probe=probe)) for probe in probes}
    rows = []
    for name in summary.servers():
        for kind in ("sync", "async"):
            cells = []
            for probe in probes:
                base = summary.one(probe=probe, server=server, view_kind=view_kind, users=tops[probe])
                row = summary.one(probe=probe, server=name, view_kind=kind, users=tops[probe])
                cells.append(ratio(row.rps, base.rps) if row and base else "")
            if any(cells):
                rows.append([name, kind, *cells])
    return table(["server", "view", *[f"{probe} @{tops[probe]}" for probe in probes]], rows)

"""A fan-out run's figures and the report of `make bench-fanout` (loadtests/fanout_bench.py): each
run's line as it ends, then the medians over the rounds, with CPU per delivery as a multiple of the
floor's.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from loadtests.fanout_readers import DRAIN_SECONDS

KINDS = ["chat", "plain", "floor"]


@dataclass
class Run:
    kind: str
    layer: str
    clients: int
    round: int
    sent: int = 0
    expected: int = 0
    received: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    server_cpu_seconds: float = 0.0
    server_cpu_us_per_delivery: float = 0.0
    client_cpu_seconds: float = 0.0
    seconds: float = 0.0
    server_rss_mib_before: float = 0.0
    server_rss_mib_after: float = 0.0
    kib_per_connection: float = 0.0
    connect_seconds: float = 0.0
    # Handshakes refused and tried again (each reader joined in the end, or the run failed).
    refused_handshakes: int = 0
    load_average: list[float] = field(default_factory=list)

    @property
    def lost(self) -> int:
        """Deliveries that had not arrived DRAIN_SECONDS after the last send: lost, or that late."""
        return self.expected - self.received


def print_run(run: Run) -> None:
    print(
        f"  {run.kind:<5} {run.layer:<24} N={run.clients:<5} round {run.round}"
        f" | received {run.received}/{run.expected} ({run.lost} missing {DRAIN_SECONDS:g} s after)"
        f" | p50 {run.p50_ms:7.1f} ms  p99 {run.p99_ms:7.1f} ms  max {run.max_ms:7.1f} ms"
        f" | servers' CPU {run.server_cpu_seconds:.2f} s = {run.server_cpu_us_per_delivery:.1f} µs/delivery,"
        f" readers' CPU {run.client_cpu_seconds:.2f} s"
        f" | {run.kib_per_connection:.1f} KiB/connection"
        f" | connect {run.connect_seconds:.1f} s ({run.refused_handshakes} refused, tried again)"
        f" | load {run.load_average}",
        flush=True,
    )


def summary_rows(runs: list[Run]) -> list[dict[str, object]]:
    """Medians over the rounds, per (N, layer, kind), with CPU per delivery as a multiple of the
    floor's in the same run: on a shared machine the ratio is steadier than the figures."""
    rows: list[dict[str, object]] = []
    for clients, layer in sorted({(run.clients, run.layer) for run in runs}):
        same_n = [run for run in runs if run.clients == clients and run.layer == layer]
        floor = [run.server_cpu_us_per_delivery for run in same_n if run.kind == "floor"]
        floor_us = statistics.median(floor) if floor else None
        for kind in KINDS:
            same = [run for run in same_n if run.kind == kind]
            if not same:
                continue
            us = statistics.median(run.server_cpu_us_per_delivery for run in same)
            rows.append(
                {
                    "kind": kind,
                    "layer": layer if kind != "floor" else "none",
                    "clients": clients,
                    "rounds": len(same),
                    "p50_ms": round(statistics.median(run.p50_ms for run in same), 2),
                    "p99_ms": round(statistics.median(run.p99_ms for run in same), 2),
                    "max_ms": max(run.max_ms for run in same),
                    "server_cpu_us_per_delivery": round(us, 1),
                    "times_floor": round(us / floor_us, 1) if floor_us else None,
                    "server_cpu_seconds": round(statistics.median(run.server_cpu_seconds for run in same), 2),
                    "client_cpu_seconds": round(statistics.median(run.client_cpu_seconds for run in same), 2),
                    "kib_per_connection": round(statistics.median(run.kib_per_connection for run in same), 2),
                    "lost": sum(run.lost for run in same),
                }
            )
    return rows


def print_summary(rows: list[dict[str, object]]) -> None:
    print("\nMedians over the rounds (CPU per delivery also as a multiple of the floor's):")
    for row in rows:
        print(
            f"  {row['kind']:<5} {row['layer']:<24} N={row['clients']:<5} x{row['rounds']}"
            f" | p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  max {row['max_ms']:7.1f} ms"
            f" | {row['server_cpu_us_per_delivery']:6.1f} µs/delivery ({row['times_floor']}x floor)"
            f" | servers {row['server_cpu_seconds']} s CPU, readers {row['client_cpu_seconds']} s"
            f" | {row['kib_per_connection']} KiB/connection | missing {row['lost']}"
        )

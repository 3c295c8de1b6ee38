"""One Locust run against a running server, and the CPU that server and Locust used meanwhile.

Locust runs headless with every user started within the first second (`--spawn-rate` = users) and
its statistics reset once they are (`--reset-stats`); the harness charges to the run only the CPU
used between those two log lines and the end, so what is measured is the steady state.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from loadtests.environment_json import Cores
from loadtests.plan import CPU_MS, FANOUT_MS, FANOUT_N, SLEEP_MS, Run
from loadtests.servers import RunningServer
from testbed.processes import ROOT, pin_to

LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
# Locust logs these two lines; the steady part of a run, which its statistics cover
# (--reset-stats), lies between them, and so does the CPU the harness charges to the run.
STEADY_START = "Resetting stats"
STEADY_END = "--run-time limit reached"
# Locust spawns `users` per second, so every user is running one second after the start.
RAMP_SECONDS = 1
LOCUST_STOP_TIMEOUT_SECONDS = 60.0


@dataclass
class Measurement:
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu: float
    locust_cpu: float
    other_cpu: float


def locust_command(run: Run, host: str, duration: int, output: Path) -> list[str]:
    user_class = "SyncProbeUser" if run.view_kind == "sync" else "AsyncProbeUser"
    tags = [run.probe.locust_tag, *(["blocking-neighbour"] if run.probe.extra_user_classes else [])]
    users = run.users + len(run.probe.extra_user_classes)
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        user_class,
        *run.probe.extra_user_classes,
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{duration + RAMP_SECONDS}s",
        "--reset-stats",
        "--only-summary",
        "--csv",
        str(output / run.slug),
        "--html",
        str(output / f"{run.slug}.html"),
        "--sleep-ms",
        str(SLEEP_MS),
        "--fanout-n",
        str(FANOUT_N),
        "--fanout-ms",
        str(FANOUT_MS),
        "--cpu-ms",
        str(CPU_MS),
        "--tags",
        *tags,
    ]


def read_stats(stats_csv: Path, name: str) -> dict[str, str]:
    with stats_csv.open(newline="") as file:
        for row in csv.DictReader(file):
            if row["Name"] == name:
                return row
    raise LookupError(f"{stats_csv.name} has no row for {name}")


def cpu_seconds(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def busy_seconds(cores: set[int]) -> float:
    """CPU time spent so far on these cores by every process on the machine."""
    per_core = psutil.cpu_times(percpu=True)
    return sum(
        sum(per_core[core]) - per_core[core].idle - getattr(per_core[core], "iowait", 0.0) for core in cores
    )


@dataclass(frozen=True)
class Snapshot:
    at: float
    server_cpu: float
    locust_cpu: float
    server_cores_busy: float


def measure(
    run: Run, server: RunningServer, duration: int, server_cores: set[int], locust_cores: Cores, output: Path
) -> Measurement:
    """Run Locust once, charging to the run the CPU that server and Locust used while its
    statistics were being collected, and noting how much other processes used the server's cores
    meanwhile (on a shared machine, that is CPU the server did not get)."""
    log = (output / f"{run.slug}.log").open("w")
    locust = subprocess.Popen(
        locust_command(run, server.url, duration, output),
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=pin_to(locust_cores),
    )
    marks: dict[str, Snapshot] = {}

    def watch_log() -> None:
        assert locust.stderr is not None
        for line in locust.stderr:
            log.write(line)
            for mark in (STEADY_START, STEADY_END):
                if mark in line and mark not in marks:
                    marks[mark] = Snapshot(
                        time.monotonic(),
                        server.cpu_seconds(),
                        cpu_seconds(locust.pid),
                        busy_seconds(server_cores),
                    )

    watcher = threading.Thread(target=watch_log, daemon=True)
    watcher.start()
    try:
        locust.wait(duration + RAMP_SECONDS + LOCUST_STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        locust.kill()
        locust.wait()
    watcher.join(10)
    log.close()
    if STEADY_START not in marks or STEADY_END not in marks:
        raise RuntimeError(f"Locust did not run {run.slug} to the end; see {output / run.slug}.log")
    start, end = marks[STEADY_START], marks[STEADY_END]
    seconds = end.at - start.at
    server_cpu = (end.server_cpu - start.server_cpu) / seconds
    locust_cpu = (end.locust_cpu - start.locust_cpu) / seconds
    others = (end.server_cores_busy - start.server_cores_busy) / seconds - server_cpu
    if locust_cores is None:  # one core for everything: Locust is not "other work"
        others -= locust_cpu
    stats = read_stats(output / f"{run.slug}_stats.csv", run.probe.url(run.view_kind))
    return Measurement(
        requests=int(stats["Request Count"]),
        failures=int(stats["Failure Count"]),
        rps=float(stats["Requests/s"]),
        p50_ms=float(stats["50%"]),
        p95_ms=float(stats["95%"]),
        p99_ms=float(stats["99%"]),
        server_cpu=server_cpu,
        locust_cpu=locust_cpu,
        other_cpu=max(0.0, others),
    )

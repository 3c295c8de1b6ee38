"""The comparison harness: `make compare` (or `python -m loadtests.compare`).

For each server configuration (loadtests/servers.py) it starts the server on loopback, waits for
/readyz, runs Locust headless (loadtests/locustfile.py) for each probe and concurrency level, stops
the server and moves on. Server and Locust run pinned to separate cores; the CPU each used is
recorded. Everything lands in loadtests/results/<timestamp>/: summary.csv, Locust's own CSV and HTML
per run, environment.json, the server logs, and report.md with its charts (loadtests/report.py).

    python -m loadtests.compare            # the full run (about 25 minutes on 2 cores)
    python -m loadtests.compare --quick    # two servers, two probes, short runs (about a minute)
    python -m loadtests.compare --servers uvicorn,gunicorn-sync --probes sleep --users 10,100
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psutil

from loadtests.report import write_report
from loadtests.servers import RunningServer, ServerConfig, server_configs
from stacks.processes import ROOT, VENV_BIN, pin_to

RESULTS = ROOT / "loadtests" / "results"
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
SUMMARY_COLUMNS = [
    "server",
    "interface",
    "probe",
    "view_kind",
    "users",
    "middleware",
    "requests",
    "rps",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "failures",
    "server_cpu",
    "locust_cpu",
    "other_cpu",
    "server_cpu_ms_per_request",
    "workers",
    "threads_per_worker",
    "url",
]
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
# Locust logs these two lines; the steady part of a run, which its statistics cover
# (--reset-stats), lies between them, and so does the CPU the harness charges to the run.
STEADY_START = "Resetting stats"
STEADY_END = "--run-time limit reached"
# Locust spawns `users` per second, so every user is running one second after the start.
RAMP_SECONDS = 1
LOCUST_STOP_TIMEOUT_SECONDS = 60.0
SERVER_START_ESTIMATE_SECONDS = 6.0
RUN_OVERHEAD_ESTIMATE_SECONDS = 1.0
SLEEP_MS = 100
FANOUT_N, FANOUT_MS = 5, 50
CPU_MS = 10


@dataclass(frozen=True)
class Probe:
    """One line of the plan: which probe, as which views, at which concurrency levels."""

    key: str  # the `probe` column of summary.csv
    locust_tag: str
    path: str  # under /demo/<view kind>/, as Locust names the request
    levels: tuple[int, ...]
    quick_levels: tuple[int, ...]
    view_kinds: tuple[str, ...] = ("sync", "async")
    interfaces: tuple[str, ...] = ("wsgi", "asgi")
    middleware: str = "full"
    extra_user_classes: tuple[str, ...] = ()

    def url(self, view_kind: str) -> str:
        return f"/demo/{view_kind}/{self.path}"


PROBES = {
    probe.key: probe
    for probe in [
        Probe("hello", "hello", "hello/", (1, 20, 200), (20,)),
        Probe("sleep", "sleep", f"sleep/?ms={SLEEP_MS}", (1, 10, 50, 200), (50,)),
        Probe("fanout", "fanout", f"fanout/?n={FANOUT_N}&ms={FANOUT_MS}", (1, 10), (10,)),
        Probe("db", "db", "db/", (20,), (20,)),
        Probe("cpu", "cpu", f"cpu/?ms={CPU_MS}", (10,), (10,)),
        # On a WSGI worker the mistake costs nothing extra: the worker blocks anyway.
        Probe("blocking", "blocking", f"blocking/?ms={SLEEP_MS}", (50,), (50,), ("async",), ("asgi",)),
        # Async sleep again, while one more user keeps calling the blocking probe on the same
        # server: what one blocking call costs the well-behaved requests around it.
        Probe(
            "sleep-next-to-blocking",
            "sleep",
            f"sleep/?ms={SLEEP_MS}",
            (10,),
            (10,),
            ("async",),
            ("asgi",),
            extra_user_classes=("BlockingNeighbourUser",),
        ),
        # hello again, on the server restarted with DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE=1.
        Probe("hello-no-middleware", "hello", "hello/", (20,), (20,), middleware="none"),
        # And the waiting probe without middleware, where ASGI should shine.
        Probe(
            "sleep-no-middleware",
            "sleep",
            f"sleep/?ms={SLEEP_MS}",
            (200,),
            (50,),
            ("async",),
            ("asgi",),
            middleware="none",
        ),
    ]
}
QUICK_SERVERS = ["gunicorn-sync", "uvicorn"]
QUICK_PROBES = ["hello", "sleep"]


@dataclass(frozen=True)
class Run:
    server: ServerConfig
    probe: Probe
    view_kind: str
    users: int

    @property
    def slug(self) -> str:
        return f"{self.server.name}__{self.probe.key}__{self.view_kind}__u{self.users}"


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


def plan(servers: list[ServerConfig], probes: list[Probe], users: list[int] | None, quick: bool) -> list[Run]:
    runs = []
    for server in servers:
        for probe in probes:
            if server.interface not in probe.interfaces:
                continue
            levels = users or (probe.quick_levels if quick else probe.levels)
            for view_kind in probe.view_kinds:
                runs.extend(Run(server, probe, view_kind, level) for level in levels)
    return runs


def server_sessions(runs: list[Run]) -> list[tuple[ServerConfig, str, list[Run]]]:
    """Group the runs by server start: one start per server and middleware setting, in plan order."""
    sessions: dict[tuple[str, str], tuple[ServerConfig, str, list[Run]]] = {}
    for run in runs:
        key = (run.server.name, run.probe.middleware)
        sessions.setdefault(key, (run.server, run.probe.middleware, []))[2].append(run)
    return list(sessions.values())


# Cores and the machine ----------------------------------------------------------------------------


def split_cores() -> tuple[set[int] | None, set[int] | None]:
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


def environment_facts(options: argparse.Namespace, server_cores, locust_cores, database_url: str) -> dict:
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
            "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
        },
        "python": platform.python_version(),
        "packages": package_versions(),
        "settings": {
            "mode": "quick" if options.quick else "full",
            "workers": options.workers,
            "threads": options.threads,
            "duration_seconds": options.duration,
            "server_cores": sorted(server_cores) if server_cores else "shared",
            "locust_cores": sorted(locust_cores) if locust_cores else "shared",
            "database": database_url.split("://", 1)[0],
            "sleep_ms": SLEEP_MS,
            "fanout": {"n": FANOUT_N, "ms": FANOUT_MS},
            "cpu_ms": CPU_MS,
            "django_debug": False,
            "access_logs": "on, as the start scripts run them",
        },
    }


# Setup -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_environment(database_url: str, redis_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "GUNICORN_"))}
    env.pop("DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE", None)
    env.pop("DJANGO_DEBUG", None)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-not-for-production")
    env["DATABASE_URL"] = database_url
    env["REDIS_URL"] = redis_url
    env["PYTHONUNBUFFERED"] = "1"
    return env


def prepare_database(env: dict[str, str], log: Path) -> None:
    with log.open("ab") as output:
        for arguments in (["migrate", "--noinput"], ["seed_demo", "--size", "200"]):
            subprocess.run(
                [sys.executable, "manage.py", *arguments],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=600,
            )


class EmbeddedRedis:
    """deploy/start-redis.sh on a free port, when no REDIS_URL was given."""

    def __init__(self, log: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        env["EMBEDDED_REDIS_PORT"] = str(self.port)
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [str(ROOT / "deploy" / "start-redis.sh")],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("the embedded Redis did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# One Locust run ----------------------------------------------------------------------------------


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
    run: Run, server: RunningServer, duration: int, server_cores: set[int], locust_cores, output: Path
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


def summary_row(run: Run, measured: Measurement, workers: int) -> dict[str, object]:
    per_request = measured.server_cpu / measured.rps * 1000 if measured.rps else 0.0
    return {
        "server": run.server.name,
        "interface": run.server.interface,
        "probe": run.probe.key,
        "view_kind": run.view_kind,
        "users": run.users,
        "middleware": run.probe.middleware,
        "requests": measured.requests,
        "rps": round(measured.rps, 1),
        "p50_ms": measured.p50_ms,
        "p95_ms": measured.p95_ms,
        "p99_ms": measured.p99_ms,
        "failures": measured.failures,
        "server_cpu": round(measured.server_cpu, 3),
        "locust_cpu": round(measured.locust_cpu, 3),
        "other_cpu": round(measured.other_cpu, 3),
        "server_cpu_ms_per_request": round(per_request, 3),
        "workers": workers,
        "threads_per_worker": run.server.threads_per_worker or "",
        "url": run.probe.url(run.view_kind),
    }


# Progress ----------------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar with an estimate of the time left, learnt from the runs so far."""

    WIDTH = 30

    def __init__(self, runs: list[Run], sessions: int, duration: int):
        self.total = len(runs)
        self.done = 0
        self.sessions_left = sessions
        self.duration = duration
        self.started = time.monotonic()
        self.run_seconds: list[float] = []
        self.interactive = sys.stderr.isatty()

    def seconds_left(self) -> float:
        per_run = (
            sum(self.run_seconds) / len(self.run_seconds)
            if self.run_seconds
            else self.duration + RAMP_SECONDS + RUN_OVERHEAD_ESTIMATE_SECONDS
        )
        return (self.total - self.done) * per_run + self.sessions_left * SERVER_START_ESTIMATE_SECONDS

    def show(self, what: str) -> None:
        filled = int(self.WIDTH * self.done / max(1, self.total))
        left = int(self.seconds_left())
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total} runs, "
            f"~{left // 60}m{left % 60:02d}s left  {what}"
        )
        if self.interactive:
            sys.stderr.write(f"\r\033[K{line}")
        else:
            sys.stderr.write(f"{line}\n")
        sys.stderr.flush()

    def run_finished(self, seconds: float) -> None:
        self.done += 1
        self.run_seconds.append(seconds)

    def close(self) -> None:
        elapsed = int(time.monotonic() - self.started)
        if self.interactive:
            sys.stderr.write("\n")
        sys.stderr.write(f"done: {self.total} runs in {elapsed // 60}m{elapsed % 60:02d}s\n")


# The harness -------------------------------------------------------------------------------------


def parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    configs = server_configs(threads=4)
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.compare",
        description="Start each server in turn, load it with Locust, and write a report.",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"servers {QUICK_SERVERS}, probes {QUICK_PROBES}, 2 s runs"
    )
    parser.add_argument("--servers", type=parse_list, help=f"comma-separated, of: {', '.join(configs)}")
    parser.add_argument("--probes", type=parse_list, help=f"comma-separated, of: {', '.join(PROBES)}")
    parser.add_argument("--users", type=parse_list, help="comma-separated concurrency levels for every probe")
    parser.add_argument(
        "--duration", type=int, help="seconds measured per run, after the ramp (full 5, quick 2)"
    )
    parser.add_argument("--workers", type=int, help="worker processes of every server (2 x server cores + 1)")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker of gthread and Granian WSGI"
    )
    parser.add_argument("--database-url", help="a migrated database to use (default: a fresh SQLite file)")
    parser.add_argument("--redis-url", help="Redis for the channel layer (default: an embedded Redis)")
    parser.add_argument("--output", type=Path, help="results folder (default loadtests/results/<timestamp>)")
    options = parser.parse_args(argv)

    options.servers = options.servers or (QUICK_SERVERS if options.quick else list(configs))
    options.probes = options.probes or (QUICK_PROBES if options.quick else list(PROBES))
    unknown = [name for name in options.servers if name not in configs] + [
        name for name in options.probes if name not in PROBES
    ]
    if unknown:
        parser.error(f"unknown server or probe: {', '.join(unknown)}")
    try:
        options.users = [int(level) for level in options.users] if options.users else None
    except ValueError:
        parser.error("--users takes whole numbers, like 1,10,100")
    if options.users and min(options.users) < 1:
        parser.error("--users must be 1 or more")
    if options.duration is None:
        options.duration = 2 if options.quick else 5
    if options.duration < 1:
        parser.error("--duration must be 1 or more")
    if options.threads < 1:
        parser.error("--threads must be 1 or more")
    if options.workers is not None and options.workers < 1:
        parser.error("--workers must be 1 or more")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    server_cores, locust_cores = split_cores()
    all_cores = set(os.sched_getaffinity(0))
    options.workers = options.workers or 2 * len(server_cores or os.sched_getaffinity(0)) + 1
    configs = server_configs(options.threads)
    runs = plan(
        [configs[name] for name in options.servers],
        [PROBES[name] for name in options.probes],
        options.users,
        options.quick,
    )
    output = options.output or RESULTS / datetime.now().strftime("%Y%m%d-%H%M%S")
    (output / "locust").mkdir(parents=True, exist_ok=True)
    (output / "logs").mkdir(exist_ok=True)
    database_url = options.database_url or f"sqlite:///{output / 'benchmark.sqlite3'}"
    sessions = server_sessions(runs)
    print(f"{len(runs)} runs on {len(sessions)} server starts; results in {output}", file=sys.stderr)

    redis = None if options.redis_url else EmbeddedRedis(output / "logs" / "redis.log")
    rows: list[dict[str, object]] = []
    try:
        env = base_environment(database_url, options.redis_url or redis.url)
        env["WEB_CONCURRENCY"] = str(options.workers)
        prepare_database(env, output / "logs" / "setup.log")
        facts = environment_facts(options, server_cores, locust_cores, database_url)
        progress = Progress(runs, len(sessions), options.duration)
        for config, middleware, session_runs in sessions:
            server_env = dict(env)
            if middleware == "none":
                server_env["DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE"] = "1"
            progress.show(f"starting {config.name} (middleware: {middleware})")
            log = output / "logs" / f"{config.name}-middleware-{middleware}.log"
            server = RunningServer(config, server_env, free_port(), server_cores, log)
            try:
                server.wait_until_ready()
                warm_up_paths = sorted({run.probe.url(run.view_kind) for run in session_runs})
                server.warm_up(warm_up_paths, rounds=2 * options.workers)
                for run in session_runs:
                    progress.show(f"{config.name}: {run.view_kind} {run.probe.key}, {run.users} users")
                    started = time.monotonic()
                    measured = measure(
                        run,
                        server,
                        options.duration,
                        server_cores or all_cores,
                        locust_cores,
                        output / "locust",
                    )
                    rows.append(summary_row(run, measured, options.workers))
                    server.drain()
                    progress.run_finished(time.monotonic() - started)
            finally:
                server.stop()
                progress.sessions_left -= 1
        progress.close()
    finally:
        if redis is not None:
            redis.stop()
        write_summary(output / "summary.csv", rows)

    facts["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    facts["machine"]["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    facts["servers"] = {
        name: {
            **asdict(configs[name]),
            "command": " ".join(Path(part).name for part in configs[name].command),
        }
        for name in options.servers
    }
    (output / "environment.json").write_text(json.dumps(facts, indent=2) + "\n")
    report = write_report(output)
    failures = sum(int(row["failures"]) for row in rows)
    print(f"summary: {output / 'summary.csv'}\nreport:  {report}", file=sys.stderr)
    if failures:
        print(f"{failures} requests failed; see the Locust reports in {output / 'locust'}", file=sys.stderr)
    return 0


def write_summary(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())

"""The comparison harness: `make compare` (or `python -m loadtests.compare`).

For each server configuration (loadtests/servers.py), and each variant of it (loadtests/plan.py),
it starts the server on loopback, waits for /readyz, runs Locust headless for each probe and
concurrency level (loadtests/locust_runs.py), stops the server and moves on. Server and Locust run
pinned to separate cores; the CPU each used is recorded. Everything lands in
loadtests/results/<timestamp>/: summary.csv, Locust's own CSV and HTML per run, environment.json,
the server logs, and report.md with its charts (loadtests/report.py).

    python -m loadtests.compare            # the full run (about 35 minutes on 2 cores)
    python -m loadtests.compare --quick    # two servers, two probes, short runs (about a minute)
    python -m loadtests.compare --servers uvicorn,gunicorn-sync --probes sleep --users 10,100
    python -m loadtests.compare --servers uvicorn --variants stock,async-native
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from loadtests.environment_json import Cores, environment_facts, split_cores
from loadtests.locust_runs import measure
from loadtests.plan import (
    PROBES,
    QUICK_PROBES,
    QUICK_SERVERS,
    QUICK_VARIANTS,
    VARIANTS,
    Session,
    plan,
    server_sessions,
)
from loadtests.progress import Progress
from loadtests.report import write_report
from loadtests.results_csv import ResultRow, summary_row, write_summary
from loadtests.servers import RunningServer, ServerConfig, server_configs
from testbed.database import migrate_and_seed
from testbed.environment import base_environment
from testbed.machine import load_average
from testbed.processes import ROOT, free_port
from testbed.redis_server import redis_url

RESULTS = ROOT / "loadtests" / "results"
SEED_SIZE = 200


def parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class Options:
    """The command line, checked, with the defaults of the mode (full or quick) filled in."""

    quick: bool
    servers: list[str]
    probes: list[str]
    variants: list[str]
    users: list[int] | None  # None: each probe's own levels
    duration: int
    workers: int | None  # None: 2 x server cores + 1
    threads: int
    database_url: str | None
    redis_url: str | None
    output: Path | None


def parse_arguments(argv: list[str] | None) -> Options:
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
    parser.add_argument(
        "--variants",
        type=parse_list,
        help=f"comma-separated, of: {', '.join(VARIANTS)} (quick: {', '.join(QUICK_VARIANTS)})",
    )
    parser.add_argument("--users", type=parse_list, help="comma-separated concurrency levels for every probe")
    parser.add_argument(
        "--duration", type=int, help="seconds measured per run, after the ramp (full 5, quick 2)"
    )
    parser.add_argument("--workers", type=int, help="worker processes of every server (2 x server cores + 1)")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker of gthread and Granian WSGI"
    )
    parser.add_argument("--database-url", help="a migrated database to use (default: a fresh SQLite file)")
    parser.add_argument(
        "--redis-url", help="Redis for the channel layer (default: REDIS_URL, else an embedded Redis)"
    )
    parser.add_argument("--output", type=Path, help="results folder (default loadtests/results/<timestamp>)")
    arguments = parser.parse_args(argv)

    quick: bool = arguments.quick
    servers: list[str] = arguments.servers or (QUICK_SERVERS if quick else list(configs))
    probes: list[str] = arguments.probes or (QUICK_PROBES if quick else list(PROBES))
    variants: list[str] = arguments.variants or (QUICK_VARIANTS if quick else list(VARIANTS))
    unknown = (
        [name for name in servers if name not in configs]
        + [name for name in probes if name not in PROBES]
        + [name for name in variants if name not in VARIANTS]
    )
    if unknown:
        parser.error(f"unknown server, probe or variant: {', '.join(unknown)}")
    try:
        users = [int(level) for level in arguments.users] if arguments.users else None
    except ValueError:
        parser.error("--users takes whole numbers, like 1,10,100")
    if users and min(users) < 1:
        parser.error("--users must be 1 or more")
    duration: int = arguments.duration if arguments.duration is not None else (2 if quick else 5)
    if duration < 1:
        parser.error("--duration must be 1 or more")
    if arguments.threads < 1:
        parser.error("--threads must be 1 or more")
    if arguments.workers is not None and arguments.workers < 1:
        parser.error("--workers must be 1 or more")
    return Options(
        quick=quick,
        servers=servers,
        probes=probes,
        variants=variants,
        users=users,
        duration=duration,
        workers=arguments.workers,
        threads=arguments.threads,
        database_url=arguments.database_url,
        redis_url=arguments.redis_url,
        output=arguments.output,
    )


def measure_session(
    session: Session,
    env: dict[str, str],
    workers: int,
    duration: int,
    cores: tuple[Cores, Cores],
    output: Path,
    progress: Progress,
) -> list[ResultRow]:
    """Start one server in one variant, warm it up, measure its runs, stop it."""
    server_cores, locust_cores = cores
    config, variant = session.server, session.variant
    name = variant.name if session.round == 1 else f"{variant.name}, round {session.round}"
    progress.show(f"starting {config.name} ({name})")
    log = output / "logs" / f"{config.name}-{variant.name}-{session.round}.log"
    server = RunningServer(config, {**env, **variant.env}, free_port(), server_cores, log)
    rows = []
    try:
        server.wait_until_ready()
        warm_up_paths = sorted({run.probe.url(run.view_kind) for run in session.runs})
        server.warm_up(warm_up_paths, rounds=2 * workers)
        for run in session.runs:
            progress.show(f"{config.name} ({name}): {run.view_kind} {run.probe.key}, {run.users} users")
            started = time.monotonic()
            measured = measure(
                run,
                server,
                duration,
                server_cores or set(os.sched_getaffinity(0)),
                locust_cores,
                output / "locust",
            )
            rows.append(summary_row(run, measured, workers))
            server.drain()
            progress.run_finished(time.monotonic() - started)
    finally:
        server.stop()
        progress.session_finished()
    return rows


def server_environment(**settings: str) -> dict[str, str]:
    """What every server starts from: the toolkit's child environment without any variant's switch
    (a variant sets its own per server start; one inherited from the shell would blur the
    comparison), plus `settings`. The demo's probe slots are off: the comparison measures what the
    servers themselves do under the probes (docs/reliability.md says why a public site keeps them)."""
    env = base_environment(**{"DJANGO_DEMO_PROBE_SLOTS": "0", **settings})
    for variant in VARIANTS.values():
        for key in variant.env:
            env.pop(key, None)
    return env


def server_facts(config: ServerConfig) -> dict[str, object]:
    return {**asdict(config), "command": " ".join(Path(part).name for part in config.command)}


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    server_cores, locust_cores = split_cores()
    workers = options.workers or 2 * len(server_cores or os.sched_getaffinity(0)) + 1
    configs = server_configs(options.threads)
    variants = [VARIANTS[name] for name in options.variants]
    runs = plan(
        [configs[name] for name in options.servers], options.probes, options.users, options.quick, variants
    )
    output = options.output or RESULTS / datetime.now().strftime("%Y%m%d-%H%M%S")
    (output / "locust").mkdir(parents=True, exist_ok=True)
    (output / "logs").mkdir(exist_ok=True)
    database_url = options.database_url or f"sqlite:///{output / 'benchmark.sqlite3'}"
    sessions = server_sessions(runs)
    print(f"{len(runs)} runs on {len(sessions)} server starts; results in {output}", file=sys.stderr)

    rows: list[ResultRow] = []
    with redis_url(output / "logs", options.redis_url) as redis:
        env = server_environment(DATABASE_URL=database_url, REDIS_URL=redis, WEB_CONCURRENCY=str(workers))
        migrate_and_seed(env, size=SEED_SIZE)
        facts = environment_facts(
            quick=options.quick,
            workers=workers,
            threads=options.threads,
            duration=options.duration,
            server_cores=server_cores,
            locust_cores=locust_cores,
            database_url=database_url,
            variants=variants,
        )
        progress = Progress(len(runs), len(sessions), options.duration)
        try:
            for session in sessions:
                cores = (server_cores, locust_cores)
                rows += measure_session(session, env, workers, options.duration, cores, output, progress)
            progress.close()
        finally:
            write_summary(output / "summary.csv", rows)

    facts["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    facts["machine"]["load_average_at_end"] = load_average()
    facts["servers"] = {name: server_facts(configs[name]) for name in options.servers}
    (output / "environment.json").write_text(json.dumps(facts, indent=2) + "\n")
    report = write_report(output)
    failures = sum(row.failures for row in rows)
    print(f"summary: {output / 'summary.csv'}\nreport:  {report}", file=sys.stderr)
    if failures:
        print(f"{failures} requests failed; see the Locust reports in {output / 'locust'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

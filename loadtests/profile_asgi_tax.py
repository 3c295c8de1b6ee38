"""Where the CPU of an ASGI request goes (`make flamegraph`; docs/asgi-tax.md).

For each stack (DJANGO_ASGI_STACK=stock, then async-native), py-spy records one Uvicorn worker,
pinned to one core, while loadtests/http_load.py sends `hello` from another core. It writes
`<stack>.svg` (a flame graph) and prints where the samples' innermost frames are, by package: the
thread hand-offs (asgiref, concurrent.futures, threading, queue), Django, the server, asyncio.

    python -m loadtests.profile_asgi_tax [--folder docs/asgi-tax] [--duration 15] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path

import psutil

from loadtests.bench_asgi_tax import HELLO, measure, split_cores
from loadtests.compare import EmbeddedRedis, base_environment, free_port, prepare_database
from loadtests.servers import ROOT, VENV_BIN, RunningServer, ServerConfig

STACKS = ("stock", "async-native")
# Innermost frame's file -> what it is; first match wins. Stdlib paths end in the module's name.
CATEGORIES = [
    ("thread hand-offs", re.compile(r"asgiref/|concurrent/futures/|/threading\.py|/queue\.py")),
    ("access log", re.compile(r"/logging/|uvicorn/logging\.py")),
    ("Django", re.compile(r"/django/")),
    ("static files", re.compile(r"/whitenoise/|/servestatic/")),
    ("server (Uvicorn, httptools)", re.compile(r"/uvicorn/|/httptools/|/h11/")),
    ("event loop (asyncio, uvloop)", re.compile(r"/asyncio/|/uvloop/")),
]
FRAME_FILE = re.compile(r"\(([^():]+):\d+\)$")


def categorize(folded: Path) -> Counter[str]:
    """Samples per category, from py-spy's raw (folded) output: `frame;frame;... count` lines."""
    counts: Counter[str] = Counter()
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1]
        match = FRAME_FILE.search(leaf)
        path = match.group(1) if match else leaf
        name = next((name for name, pattern in CATEGORIES if pattern.search(path)), "other")
        counts[name] += int(count)
    return counts


def record(
    stack: str,
    output: Path,
    fmt: str,
    env: dict[str, str],
    cores: set[int],
    logs: Path,
    args: argparse.Namespace,
) -> None:
    port = free_port()
    # --gil: only the thread holding the GIL is sampled, so the graph shows where the CPU goes, not
    # where threads wait. --nonblocking: the worker is never paused. Uvicorn runs directly (one
    # worker, the start script's defaults) so that py-spy's child is the worker itself.
    profiler = [str(VENV_BIN / "py-spy"), "record", "--rate", "250", "--gil", "--nonblocking"]
    worker = [
        str(VENV_BIN / "uvicorn"),
        "myproject.asgi:application",
        "--port",
        str(port),
        "--lifespan",
        "off",
    ]
    command = [*profiler, "--format", fmt, "--output", str(output), "--", *worker]
    config = ServerConfig(stack, stack, "asgi", command, "ASGI_PORT", {"DJANGO_ASGI_STACK": stack})
    server = RunningServer(config, env, port, cores, logs / f"{stack}-{fmt}.log")
    try:
        server.wait_until_ready()
        server.warm_up([HELLO["asgi"]], rounds=50)
        sample = measure(server, HELLO["asgi"], args.connections, args.duration)
        print(
            f"{stack} ({fmt}): {sample.rps:,.0f} req/s, {sample.cpu_us:,.0f} µs/req under py-spy", flush=True
        )
    finally:
        # py-spy writes its output when its child ends: stop Uvicorn, not py-spy.
        for child in psutil.Process(server.pid).children():
            os.kill(child.pid, signal.SIGINT)
        server.process.wait(60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "docs" / "asgi-tax")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of load per recording")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    server_cores, load_cores = split_cores()
    os.sched_setaffinity(0, load_cores)
    args.folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="flamegraph-") as tmp:
        logs = Path(tmp)
        redis = EmbeddedRedis(logs / "redis.log")
        env = base_environment(f"sqlite:///{logs / 'bench.sqlite3'}", redis.url)
        env.pop("DJANGO_ASGI_STACK", None)
        try:
            prepare_database(env, logs / "setup.log")
            for stack in STACKS:
                record(stack, args.folder / f"{stack}.svg", "flamegraph", env, server_cores, logs, args)
                folded = logs / f"{stack}.txt"
                record(stack, folded, "raw", env, server_cores, logs, args)
                counts = categorize(folded)
                total = sum(counts.values())
                print(f"{stack}: {total} samples, by innermost frame:")
                for name, count in counts.most_common():
                    print(f"  {name:<30} {count / total:6.1%}")
        finally:
            redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

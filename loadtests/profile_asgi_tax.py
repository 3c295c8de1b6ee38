"""Where the CPU of an ASGI request goes (`make flamegraph`; docs/asgi-tax.md).

For each stack (DJANGO_ASGI_STACK=stock, then async-native), py-spy attaches to one warmed-up
Uvicorn worker, pinned to one core, while loadtests/http_load.py sends `hello` from another core. It writes
`<stack>.svg` (a flame graph) and prints where the samples' innermost frames are, by package: the
thread hand-offs (asgiref, concurrent.futures, threading, queue), Django, the server, asyncio.

    python -m loadtests.profile_asgi_tax [--folder docs/asgi-tax] [--duration 15] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from loadtests.bench_asgi_tax import HELLO, benchmark_environment, measure, split_cores
from loadtests.servers import RunningServer, ServerConfig
from testbed.processes import ROOT, VENV_BIN, free_port
from testbed.web import DEPLOY

STACKS = ("stock", "async-native")
START_ASGI = [str(DEPLOY / "start-asgi.sh")]
# Innermost frame's file (as py-spy names it: relative to site-packages or the standard library)
# -> what it is; the first match wins.
CATEGORIES = [
    ("thread hand-offs", re.compile(r"^(asgiref/|concurrent/futures/|threading\.py|queue\.py)")),
    ("access log", re.compile(r"^(logging/|uvicorn/logging\.py)")),
    ("Django", re.compile(r"^django/")),
    ("static files", re.compile(r"^(whitenoise|servestatic)/")),
    ("server (Uvicorn, httptools)", re.compile(r"^(uvicorn|httptools|h11)/")),
    ("event loop (asyncio, uvloop)", re.compile(r"^(asyncio|uvloop)/|^selectors\.py")),
    ("the project", re.compile(r"^(myproject|demo)/")),
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


def profile(server: RunningServer, output: Path, fmt: str, args: argparse.Namespace) -> None:
    """py-spy attaches to the running worker for `args.duration` seconds of load."""
    # --gil: only the thread holding the GIL is sampled, so the graph shows where the CPU goes, not
    # where threads wait. --nonblocking: the worker is never paused.
    command = [str(VENV_BIN / "py-spy"), "record", "--pid", str(server.pid), "--format", fmt]
    command += ["--duration", f"{args.duration:g}", "--rate", "250", "--gil", "--nonblocking"]
    command += ["--output", str(output)]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL) as profiler:
        # Keep-alive, as the graphs were drawn: they show where a request's CPU goes inside Django.
        sample = measure(server, HELLO["asgi"], args.connections, args.duration, keep_alive=True)
        profiler.wait(60)
    measured = f"{sample.rps:,.0f} req/s, {sample.cpu_us:,.0f} µs/req"
    print(f"{server.config.name}: {measured} while py-spy sampled it", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "docs" / "asgi-tax")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of load per recording")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    server_cores, load_cores = split_cores()
    os.sched_setaffinity(0, load_cores)
    args.folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="flamegraph-") as tmp, benchmark_environment(Path(tmp)) as env:
        logs = Path(tmp)
        for stack in STACKS:
            # The start script with one worker: Uvicorn serves in the process it starts.
            config = ServerConfig(stack, stack, "asgi", START_ASGI, "ASGI_PORT", {"DJANGO_ASGI_STACK": stack})
            server = RunningServer(config, env, free_port(), server_cores, logs / f"{stack}.log")
            folded = logs / f"{stack}.txt"
            try:
                server.wait_until_ready()
                server.warm_up([HELLO["asgi"]], rounds=50)
                profile(server, args.folder / f"{stack}.svg", "flamegraph", args)
                profile(server, folded, "raw", args)
            finally:
                server.stop()
            counts = categorize(folded)
            total = sum(counts.values())
            print(f"{stack}: {total} samples, by innermost frame:")
            for name, count in counts.most_common():
                print(f"  {name:<30} {count / total:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

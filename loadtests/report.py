"""report.md and its charts, from a results folder's summary.csv and environment.json.

The harness calls it at the end of a run; to redraw a folder, or to publish one as the project's
latest results (docs/results/):

    python -m loadtests.report loadtests/results/<timestamp> [--publish]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "docs" / "results"
SERVER_ORDER = [
    "gunicorn-sync",
    "gunicorn-gthread",
    "granian-wsgi",
    "uvicorn",
    "gunicorn-uvicorn",
    "gunicorn-asgi",
    "daphne",
    "granian-asgi",
]
COLOURS = dict(zip(SERVER_ORDER, plt.get_cmap("tab10").colors, strict=False))
PROBE_ORDER = [
    "hello",
    "sleep",
    "fanout",
    "db",
    "cpu",
    "blocking",
    "sleep-next-to-blocking",
    "hello-no-middleware",
    "sleep-no-middleware",
]
CHARTED_PROBES = ["hello", "sleep", "fanout", "db", "cpu"]
# Above this share of its core, Locust itself may be what limits a run.
LOCUST_SATURATED = 0.9
# Above this share of the server's cores taken by other processes, a run measured a slower machine.
OTHERS_BUSY = 0.15
BASELINE = ("gunicorn-sync", "sync")


class Summary:
    """summary.csv as typed rows, with the look-ups the report needs."""

    def __init__(self, path: Path):
        with path.open(newline="") as file:
            self.rows = [self._typed(row) for row in csv.DictReader(file)]

    @staticmethod
    def _typed(row: dict[str, str]) -> dict:
        typed: dict = dict(row)
        for column in ("users", "requests", "failures", "workers"):
            typed[column] = int(row[column])
        for column in (
            "rps",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "server_cpu",
            "locust_cpu",
            "server_cpu_ms_per_request",
        ):
            typed[column] = float(row[column])
        # Summaries written before the column existed read as "nothing else ran".
        typed["other_cpu"] = float(row.get("other_cpu") or 0.0)
        typed["threads_per_worker"] = int(row["threads_per_worker"]) if row["threads_per_worker"] else None
        return typed

    def where(self, **conditions) -> list[dict]:
        return [row for row in self.rows if all(row[key] == value for key, value in conditions.items())]

    def one(self, **conditions) -> dict | None:
        found = self.where(**conditions)
        return found[0] if found else None

    def servers(self) -> list[str]:
        present = {row["server"] for row in self.rows}
        return [name for name in SERVER_ORDER if name in present] + sorted(present - set(SERVER_ORDER))

    def probes(self) -> list[str]:
        present = {row["probe"] for row in self.rows}
        return [name for name in PROBE_ORDER if name in present] + sorted(present - set(PROBE_ORDER))


def wait_seconds(url: str) -> float | None:
    """The wait in a sleep probe's URL (…?ms=100 → 0.1)."""
    if "/sleep/" not in url or "ms=" not in url:
        return None
    return int(url.split("ms=", 1)[1].split("&", 1)[0]) / 1000


# Charts ------------------------------------------------------------------------------------------


# What each row of a probe's chart shows: summary column, axis label, panel title.
CHART_METRICS = [
    ("rps", "requests per second", "throughput"),
    ("p99_ms", "p99 response time (ms)", "p99 latency"),
    # Unlike throughput, this hardly moves when other processes share the machine.
    ("server_cpu_ms_per_request", "server CPU per request (ms)", "server CPU per request"),
]


def chart_probe(summary: Summary, probe: str, folder: Path) -> str | None:
    rows = summary.where(probe=probe)
    if not rows:
        return None
    levels = sorted({row["users"] for row in rows})
    kinds = [kind for kind in ("sync", "async") if any(row["view_kind"] == kind for row in rows)]
    figure, axes = plt.subplots(len(CHART_METRICS), len(kinds), figsize=(6 * len(kinds), 11), squeeze=False)
    for column, kind in enumerate(kinds):
        panels = [axes[row][column] for row in range(len(CHART_METRICS))]
        if len(levels) > 1:
            _lines(summary, probe, kind, panels)
        else:
            _bars(summary, probe, kind, panels)
        view = "def" if kind == "sync" else "async def"
        for panel, (_, label, title) in zip(panels, CHART_METRICS, strict=True):
            panel.set_title(f"{probe}: {view} view (/demo/{kind}/…) — {title}", fontsize=10)
            panel.set_ylabel(label)
            panel.grid(True, alpha=0.3)
    if probe == "sleep":
        _littles_law(summary, rows, kinds, axes[0])
    if len(levels) > 1:
        # One legend for all the panels, below them, where it hides no line.
        handles, labels = axes[0][0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
        figure.tight_layout(rect=(0, 0.05, 1, 1))
    else:
        figure.tight_layout()
    name = f"{probe}.png"
    figure.savefig(folder / name, dpi=100)
    plt.close(figure)
    return name


def _lines(summary: Summary, probe: str, kind: str, panels) -> None:
    for server in summary.servers():
        points = sorted(
            summary.where(probe=probe, view_kind=kind, server=server), key=lambda row: row["users"]
        )
        if not points:
            continue
        users = [row["users"] for row in points]
        style = {"color": COLOURS.get(server), "marker": "o", "label": server}
        style["linestyle"] = "-" if points[0]["interface"] == "asgi" else "--"
        for panel, (column, _, _) in zip(panels, CHART_METRICS, strict=True):
            panel.plot(users, [row[column] for row in points], **style)
    for panel in panels:
        panel.set_xscale("log")
        panel.set_xlabel("concurrent users")
        panel.set_yscale("log")


def _bars(summary: Summary, probe: str, kind: str, panels) -> None:
    points = [
        row
        for server in summary.servers()
        for row in summary.where(probe=probe, view_kind=kind, server=server)
    ]
    names = [row["server"] for row in points]
    colours = [COLOURS.get(name) for name in names]
    for panel, (column, _, _) in zip(panels, CHART_METRICS, strict=True):
        panel.bar(names, [row[column] for row in points], color=colours)
        panel.tick_params(axis="x", rotation=45, labelsize=8)
        if points:
            panel.set_xlabel(f"{points[0]['users']} concurrent users")


def _littles_law(summary: Summary, rows: list[dict], kinds: list[str], throughput_axes) -> None:
    """Draw what Little's law allows: throughput = requests in progress / time per request."""
    wait = wait_seconds(rows[0]["url"])
    if not wait:
        return
    levels = sorted({row["users"] for row in rows})
    for column in range(len(kinds)):
        axis = throughput_axes[column]
        if len(levels) > 1:
            bounds = [users / wait for users in levels]
            axis.plot(levels, bounds, color="black", linestyle=":", label="users ÷ wait")
        else:
            axis.axhline(levels[0] / wait, color="black", linestyle=":", label="users ÷ wait")
            axis.legend(fontsize=7)  # bar charts have no figure legend
        # One line per distinct bound, naming every WSGI server it applies to.
        bounds: dict[tuple[int, int], list[str]] = defaultdict(list)
        for server in summary.servers():
            row = next((row for row in rows if row["server"] == server and row["threads_per_worker"]), None)
            if row is not None:
                bounds[(row["workers"], row["threads_per_worker"])].append(server)
        for (workers, threads), servers in bounds.items():
            bound = workers * threads / wait
            colour = COLOURS.get(servers[0])
            axis.axhline(bound, color=colour, linestyle=":", linewidth=1)
            axis.annotate(
                f"{', '.join(servers)}: {workers} workers x {threads} ÷ {wait:g} s",
                xy=(0.99, bound),
                xycoords=("axes fraction", "data"),
                fontsize=7,
                color=colour,
                ha="right",
                va="bottom",
            )


# Tables ------------------------------------------------------------------------------------------


def table(header: list[str], rows: Iterable[list[object]]) -> str:
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
        key=lambda row: (summary.servers().index(row["server"]), row["view_kind"] != "sync", row["users"]),
    )
    return table(
        [
            "server",
            "view",
            "users",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "failures",
            "server CPU",
            "CPU ms/req",
            "Locust CPU",
            "others' CPU",
        ],
        [
            [
                row["server"],
                row["view_kind"],
                row["users"],
                number(row["rps"]),
                number(row["p50_ms"]),
                number(row["p95_ms"]),
                number(row["p99_ms"]),
                row["failures"],
                f"{row['server_cpu']:.2f}",
                f"{row['server_cpu_ms_per_request']:.2f}",
                f"{row['locust_cpu']:.2f}" + (" ⚠" if row["locust_cpu"] > LOCUST_SATURATED else ""),
                f"{row['other_cpu']:.2f}" + (" ⚠" if row["other_cpu"] > OTHERS_BUSY else ""),
            ]
            for row in rows
        ],
    )


def ratio_table(summary: Summary) -> str:
    """Throughput at each probe's highest concurrency, relative to Gunicorn sync workers running
    the `def` view: the classic Django deployment."""
    probes = [
        probe
        for probe in summary.probes()
        if summary.where(probe=probe, server=BASELINE[0], view_kind="sync")
    ]
    header = [
        "server",
        "view",
        *[f"{probe} @{max(r['users'] for r in summary.where(probe=probe))}" for probe in probes],
    ]
    rows = []
    for server in summary.servers():
        for kind in ("sync", "async"):
            cells = []
            for probe in probes:
                top = max(row["users"] for row in summary.where(probe=probe))
                base = summary.one(probe=probe, server=BASELINE[0], view_kind=BASELINE[1], users=top)
                row = summary.one(probe=probe, server=server, view_kind=kind, users=top)
                cells.append(ratio(row["rps"], base["rps"]) if row and base else "")
            if any(cells):
                rows.append([server, kind, *cells])
    return table(header, rows)


MIDDLEWARE_PAIRS = [("hello", "hello-no-middleware"), ("sleep", "sleep-no-middleware")]


def middleware_section(summary: Summary) -> str:
    rows = []
    for probe, bare_probe in MIDDLEWARE_PAIRS:
        for server in summary.servers():
            for kind in ("sync", "async"):
                bare = summary.one(probe=bare_probe, server=server, view_kind=kind)
                full = (
                    summary.one(probe=probe, server=server, view_kind=kind, users=bare["users"])
                    if bare
                    else None
                )
                if full is None:
                    continue
                cost = full["server_cpu_ms_per_request"] - bare["server_cpu_ms_per_request"]
                rows.append(
                    [
                        probe,
                        server,
                        bare["interface"],
                        kind,
                        bare["users"],
                        number(full["rps"]),
                        number(bare["rps"]),
                        ratio(bare["rps"], full["rps"]),
                        f"{full['server_cpu_ms_per_request']:.2f}",
                        f"{bare['server_cpu_ms_per_request']:.2f}",
                        f"{cost:+.2f}",
                    ]
                )
    if not rows:
        return "Not measured in this run (the `hello-no-middleware` probe was not selected)."
    by_interface: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row[0] == "hello":  # the same probe on every server, so the interfaces compare like for like
            by_interface[row[2]].append(float(row[-1]))
    averages = ", ".join(
        f"**{interface.upper()}: {sum(costs) / len(costs):.2f} ms of server CPU per request**"
        for interface, costs in sorted(by_interface.items())
    )
    header = ["probe", "server", "interface", "view", "users", "req/s full", "req/s none"]
    header += ["speed-up without", "CPU ms/req full", "CPU ms/req none", "middleware cost"]
    return (
        "The same probe with the project's full middleware stack and with none "
        "(`DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE=1`, which keeps only the async-native X-Interface header); "
        "the cost is the difference in server CPU per request.\n\n"
        + table(header, rows)
        + f"\n\nAverage cost of the middleware stack on `hello`: {averages}."
    )


def targets_section(summary: Summary) -> str:
    lines = []
    sleep_async = summary.one(probe="sleep", server="uvicorn", view_kind="async", users=200)
    sleep_sync = summary.one(probe="sleep", server="gunicorn-sync", view_kind="sync", users=200)
    hello = summary.one(probe="hello", server="uvicorn", view_kind="async", users=200)
    if sleep_async and sleep_sync:
        times = sleep_async["rps"] / sleep_sync["rps"] if sleep_sync["rps"] else float("inf")
        lines.append(
            f"- **sleep?ms=100 at 200 users, Uvicorn async vs Gunicorn sync workers `def`**: "
            f"{number(sleep_async['rps'])} vs {number(sleep_sync['rps'])} req/s = **{times:.1f}x** "
            f"(target ≥ 10x: {'met' if times >= 10 else 'NOT met'})."
        )
        wait = wait_seconds(sleep_async["url"])
        if hello and wait:
            bound = min(200 / wait, hello["rps"])
            share = sleep_async["rps"] / bound
            lines.append(
                f"- **…and against its ceiling**: min(Little's law 200 ÷ {wait:g} s = {200 / wait:,.0f}, "
                f"Uvicorn's own async hello at 200 users = {number(hello['rps'])}) = {number(bound)} req/s; "
                f"reached **{share:.0%}** (target ≥ 90%: {'met' if share >= 0.9 else 'NOT met'})."
            )
    fanout_lines = []
    for server in summary.servers():
        for kind in ("sync", "async"):
            row = summary.one(probe="fanout", server=server, view_kind=kind, users=1)
            if row:
                fanout_lines.append(f"{server} {kind} {number(row['p50_ms'])} ms")
    if fanout_lines:
        lines.append(
            "- **fanout?n=5&ms=50, one user, p50**: "
            + "; ".join(fanout_lines)
            + " (expected: async near 50 ms, sync near 250 ms)."
        )
    for probe in ("hello", "cpu"):
        best = {}
        for interface in ("wsgi", "asgi"):
            rows = summary.where(probe=probe, interface=interface)
            if rows:
                top = max(rows, key=lambda row: row["rps"])
                best[interface] = top
        if len(best) == 2:
            wsgi, asgi = best["wsgi"], best["asgi"]
            winner, loser = (wsgi, asgi) if wsgi["rps"] >= asgi["rps"] else (asgi, wsgi)
            lines.append(
                f"- **{probe}, best of each interface**: WSGI {wsgi['server']} {wsgi['view_kind']} "
                f"{number(wsgi['rps'])} req/s @{wsgi['users']}, ASGI {asgi['server']} {asgi['view_kind']} "
                f"{number(asgi['rps'])} req/s @{asgi['users']}: {winner['interface'].upper()} ahead by "
                f"{winner['rps'] / loser['rps']:.2f}x."
            )
    for server in summary.servers():
        blocking = summary.one(probe="blocking", server=server)
        sleeping = (
            summary.one(probe="sleep", server=server, view_kind="async", users=blocking["users"])
            if blocking
            else None
        )
        if blocking and sleeping:
            lines.append(
                f"- **blocking on {server}, {blocking['users']} users**: `time.sleep` in the async view "
                f"{number(blocking['rps'])} req/s, p50 {number(blocking['p50_ms'])} ms; "
                f"`await asyncio.sleep` {number(sleeping['rps'])} req/s, p50 {number(sleeping['p50_ms'])} ms."
            )
        neighbour = summary.one(probe="sleep-next-to-blocking", server=server)
        alone = (
            summary.one(probe="sleep", server=server, view_kind="async", users=neighbour["users"])
            if neighbour
            else None
        )
        if neighbour and alone:
            lines.append(
                f"- **async sleep next to one blocking user on {server}, {neighbour['users']} users**: "
                f"p50 {number(alone['p50_ms'])} → {number(neighbour['p50_ms'])} ms, "
                f"p99 {number(alone['p99_ms'])} → {number(neighbour['p99_ms'])} ms, "
                f"{number(alone['rps'])} → {number(neighbour['rps'])} req/s."
            )
    return "\n".join(lines) if lines else "The probes these targets need were not part of this run."


def warnings_section(summary: Summary, environment: dict) -> str:
    lines = []
    failed = [row for row in summary.rows if row["failures"]]
    for row in failed:
        lines.append(
            f"- {row['failures']} failed requests: "
            f"{row['server']} {row['view_kind']} {row['probe']} @{row['users']}."
        )
    saturated = [row for row in summary.rows if row["locust_cpu"] > LOCUST_SATURATED]
    if saturated:
        lines.append(
            f"- Locust used more than {LOCUST_SATURATED:.0%} of its core in {len(saturated)} runs "
            "(⚠ in the tables): "
            "there the load generator, not the server, may set the ceiling."
        )
    crowded = [row for row in summary.rows if row["other_cpu"] > OTHERS_BUSY]
    if crowded:
        worst = max(row["other_cpu"] for row in crowded)
        lines.append(
            f"- Other processes took more than {OTHERS_BUSY:.0%} of the server's cores in {len(crowded)} of "
            f"{len(summary.rows)} runs (up to {worst:.0%}; ⚠ under *others' CPU*): those runs measured a "
            "slower machine, so their throughput is low by about that share."
        )
    if environment.get("settings", {}).get("server_cores") == "shared":
        lines.append("- Server and Locust shared the same core(s): this machine has only one.")
    load = environment.get("machine", {}).get("load_average_at_start")
    if load and load[0] > 0.5:
        lines.append(
            f"- The machine was not idle (load average {load[0]} at the start): "
            "other work competed for the cores; "
            "compare ratios within this run rather than absolute figures."
        )
    return "\n".join(lines) if lines else "None."


def environment_section(environment: dict) -> str:
    machine = environment.get("machine", {})
    settings = environment.get("settings", {})
    packages = ", ".join(f"{name} {version}" for name, version in environment.get("packages", {}).items())
    start, end = machine.get("load_average_at_start", "?"), machine.get("load_average_at_end", "?")
    load = f"{start} at the start, {end} at the end"
    server_cores, locust_cores = settings.get("server_cores", "?"), settings.get("locust_cores", "?")
    cores = f"server on cores {server_cores}, Locust on {locust_cores}"
    return "\n".join(
        [
            f"- Command: `{environment.get('command', '?')}` (commit {environment.get('git_commit', '?')}), "
            f"{environment.get('started', '?')} to {environment.get('finished', '?')}.",
            f"- Machine: {machine.get('cpu_model', '?')}, {machine.get('cores', '?')} cores, "
            f"{machine.get('memory_gb', '?')} GB, {machine.get('os', '?')}; load average {load}.",
            f"- Pinning: {cores}. {settings.get('workers', '?')} worker processes per server; "
            f"{settings.get('threads', '?')} threads per worker for gthread and Granian WSGI.",
            f"- Runs: {settings.get('duration_seconds', '?')} s measured each, after a 1 s ramp; "
            f"database {settings.get('database', '?')}; access logs {settings.get('access_logs', '?')}.",
            f"- Python {environment.get('python', '?')}; {packages}.",
        ]
    )


def write_report(folder: Path) -> Path:
    summary = Summary(folder / "summary.csv")
    environment_path = folder / "environment.json"
    environment = json.loads(environment_path.read_text()) if environment_path.exists() else {}
    charts = folder / "charts"
    charts.mkdir(exist_ok=True)
    sections = [
        "# WSGI vs ASGI: comparison report",
        "Made by `loadtests/compare.py`. Every figure comes from Locust's statistics over the steady part of "
        "each run (after all users started). *server CPU* and *Locust CPU* are cores busy on average "
        "(1.00 = one core); *CPU ms/req* is the server's CPU time per request; *others' CPU* is what other "
        "processes on the machine took of the server's cores meanwhile. Within one run the servers "
        "met the same machine, so compare ratios; absolute numbers belong to this machine.",
        "## Machine and settings\n\n" + environment_section(environment),
        "## Warnings\n\n" + warnings_section(summary, environment),
        "## Benchmark targets\n\n" + targets_section(summary),
        "## What middleware costs each interface\n\n" + middleware_section(summary),
        "## Throughput relative to Gunicorn sync workers (`def` view)\n\n"
        "At each probe's highest concurrency; above 1 is faster.\n\n" + ratio_table(summary),
    ]
    for probe in summary.probes():
        chart = chart_probe(summary, probe, charts) if probe in CHARTED_PROBES else None
        section = [f"## {probe}", probe_table(summary, probe)]
        if chart:
            section.insert(1, f"![{probe}: throughput and p99 against concurrency](charts/{chart})")
        sections.append("\n\n".join(section))
    report = folder / "report.md"
    report.write_text("\n\n".join(sections) + "\n")
    return report


def publish(folder: Path, destination: Path = PUBLISHED) -> Path:
    """Copy a run's report, charts, summary and environment to docs/results/."""
    # Replace what an earlier publish wrote; leave anything else in the folder alone.
    shutil.rmtree(destination / "charts", ignore_errors=True)
    (destination / "charts").mkdir(parents=True)
    for name in ("report.md", "summary.csv", "environment.json"):
        shutil.copy2(folder / name, destination / name)
    for chart in (folder / "charts").glob("*.png"):
        shutil.copy2(chart, destination / "charts" / chart.name)
    return destination


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.report", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a results folder, with summary.csv")
    parser.add_argument("--publish", action="store_true", help="copy the report to docs/results/")
    options = parser.parse_args(argv)
    if not (options.folder / "summary.csv").exists():
        parser.error(f"{options.folder} has no summary.csv")
    print(write_report(options.folder))
    if options.publish:
        print(publish(options.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())

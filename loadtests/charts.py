"""The report's charts: one PNG per probe, throughput, p99 and CPU per request against concurrency.

`def` views on the left, `async def` views on the right; solid lines are ASGI servers, dashed lines
WSGI ones. The sleep chart also draws what Little's law allows, so a reader sees which servers are
limited by their threads and which by their CPU.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from loadtests.results_csv import SERVER_ORDER, ResultRow, Summary, wait_seconds

# tab10 is a ListedColormap, which has .colors; get_cmap() is typed as returning any Colormap.
COLOURS = dict(zip(SERVER_ORDER, plt.get_cmap("tab10").colors, strict=False))  # type: ignore[attr-defined]
CHARTED_PROBES = ["hello", "sleep", "fanout", "db", "cpu"]
# What each row of a probe's chart shows: summary column, axis label, panel title.
CHART_METRICS = [
    ("rps", "requests per second", "throughput"),
    ("p99_ms", "p99 response time (ms)", "p99 latency"),
    # Unlike throughput, this hardly moves when other processes share the machine.
    ("server_cpu_ms_per_request", "server CPU per request (ms)", "server CPU per request"),
]


def chart_probe(summary: Summary, probe: str, folder: Path) -> str | None:
    """Draw one probe's chart into `folder`; its file name, or None when the probe was not run."""
    rows = summary.where(probe=probe)
    if not rows:
        return None
    levels = sorted({row.users for row in rows})
    kinds = [kind for kind in ("sync", "async") if any(row.view_kind == kind for row in rows)]
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
        _littles_law(summary, rows, kinds, list(axes[0]))
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


def _lines(summary: Summary, probe: str, kind: str, panels: list[Axes]) -> None:
    for server in summary.servers():
        points = sorted(summary.where(probe=probe, view_kind=kind, server=server), key=lambda row: row.users)
        if not points:
            continue
        users = [row.users for row in points]
        linestyle = "-" if points[0].interface == "asgi" else "--"
        for panel, (column, _, _) in zip(panels, CHART_METRICS, strict=True):
            values = [getattr(row, column) for row in points]
            panel.plot(
                users, values, color=COLOURS.get(server), marker="o", label=server, linestyle=linestyle
            )
    for panel in panels:
        panel.set_xscale("log")
        panel.set_xlabel("concurrent users")
        panel.set_yscale("log")


def _bars(summary: Summary, probe: str, kind: str, panels: list[Axes]) -> None:
    points = [
        row
        for server in summary.servers()
        for row in summary.where(probe=probe, view_kind=kind, server=server)
    ]
    names = [row.server for row in points]
    colours = [COLOURS.get(name) for name in names]
    for panel, (column, _, _) in zip(panels, CHART_METRICS, strict=True):
        panel.bar(names, [getattr(row, column) for row in points], color=colours)
        panel.tick_params(axis="x", rotation=45, labelsize=8)
        if points:
            panel.set_xlabel(f"{points[0].users} concurrent users")


def _littles_law(
    summary: Summary, rows: list[ResultRow], kinds: list[str], throughput_axes: list[Axes]
) -> None:
    """Draw what Little's law allows: throughput = requests in progress / time per request."""
    wait = wait_seconds(rows[0].url)
    if not wait:
        return
    levels = sorted({row.users for row in rows})
    for column in range(len(kinds)):
        axis = throughput_axes[column]
        if len(levels) > 1:
            axis.plot(
                levels, [users / wait for users in levels], color="black", linestyle=":", label="users ÷ wait"
            )
        else:
            axis.axhline(levels[0] / wait, color="black", linestyle=":", label="users ÷ wait")
            axis.legend(fontsize=7)  # bar charts have no figure legend
        # One line per distinct bound, naming every WSGI server it applies to.
        bounds: dict[tuple[int, int], list[str]] = defaultdict(list)
        for server in summary.servers():
            row = next((row for row in rows if row.server == server and row.threads_per_worker), None)
            if row is not None and row.threads_per_worker is not None:
                bounds[(row.workers, row.threads_per_worker)].append(server)
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

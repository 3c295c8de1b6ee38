"""report.md, from a results folder's summary.csv and environment.json, and its command.

The harness calls write_report() at the end of a run; to redraw a folder, or to publish one as the
project's latest results (docs/results/):

    python -m loadtests.report loadtests/results/<timestamp> [--publish]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from loadtests.charts import CHARTED_PROBES, chart_probe
from loadtests.comparisons import headline_section, middleware_section, stack_section
from loadtests.publish import publish
from loadtests.report_tables import LOCUST_SATURATED, OTHERS_BUSY, probe_table, ratio_table
from loadtests.results_csv import Summary

INTRODUCTION = (
    "Made by `loadtests/compare.py`. Every figure comes from Locust's statistics over the steady part of "
    "each run (after all users started). *server CPU* and *Locust CPU* are cores busy on average "
    "(1.00 = one core); *CPU ms/req* is the server's CPU time per request; *others' CPU* is what other "
    "processes on the machine took of the server's cores meanwhile. Within one run the servers "
    "met the same machine, so compare ratios; absolute numbers belong to this machine."
)


def warnings_section(summary: Summary, environment: dict[str, Any]) -> str:
    lines = [
        f"- {row.failures} failed requests: {row.server} {row.view_kind} {row.probe} @{row.users}."
        for row in summary.rows
        if row.failures
    ]
    saturated = [row for row in summary.rows if row.locust_cpu > LOCUST_SATURATED]
    if saturated:
        lines.append(
            f"- Locust used more than {LOCUST_SATURATED:.0%} of its core in {len(saturated)} runs "
            "(⚠ in the tables): there the load generator, not the server, may set the ceiling."
        )
    crowded = [row for row in summary.rows if row.other_cpu > OTHERS_BUSY]
    if crowded:
        worst = max(row.other_cpu for row in crowded)
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


def environment_section(environment: dict[str, Any]) -> str:
    machine = environment.get("machine", {})
    settings = environment.get("settings", {})
    packages = ", ".join(f"{name} {version}" for name, version in environment.get("packages", {}).items())
    start, end = machine.get("load_average_at_start", "?"), machine.get("load_average_at_end", "?")
    load = f"{start} at the start, {end} at the end"
    server_cores, locust_cores = settings.get("server_cores", "?"), settings.get("locust_cores", "?")
    cores = f"server on cores {server_cores}, Locust on {locust_cores}"
    lines = [
        f"- Command: `{environment.get('command', '?')}` (commit {environment.get('git_commit', '?')}), "
        f"{environment.get('started', '?')} to {environment.get('finished', '?')}.",
        f"- Machine: {machine.get('cpu_model', '?')}, {machine.get('cores', '?')} cores, "
        f"{machine.get('memory_gb', '?')} GB, {machine.get('os', '?')}; load average {load}.",
        f"- Pinning: {cores}. {settings.get('workers', '?')} worker processes per server; "
        f"{settings.get('threads', '?')} threads per worker for gthread and Granian WSGI.",
        f"- Runs: {settings.get('duration_seconds', '?')} s measured each, after a 1 s ramp; "
        f"database {settings.get('database', '?')}; access logs {settings.get('access_logs', '?')}.",
    ]
    variants = settings.get("variants")
    if variants:
        described = "; ".join(
            f"`{name}` " + (" ".join(f"`{key}={value}`" for key, value in env.items()) or "(as configured)")
            for name, env in variants.items()
        )
        lines.append(f"- Variants (servers restarted with): {described}.")
    lines.append(f"- Python {environment.get('python', '?')}; {packages}.")
    return "\n".join(lines)


def probe_sections(summary: Summary, charts: Path) -> list[str]:
    """A section per probe: the `default` variant's with a chart, then each other variant's, round
    by round."""
    sections = []
    for variant in ["default", *[name for name in summary.variants() if name != "default"]]:
        measured = summary.variant(variant)
        for round_ in sorted({row.round for row in measured.rows}):
            in_round = Summary(measured.where(round=round_))
            for probe in in_round.probes():
                title = ", ".join([probe, *([variant] if variant != "default" else [])])
                title += f", round {round_}" if round_ > 1 else ""
                section = [f"## {title}", probe_table(in_round, probe)]
                if variant == "default" and round_ == 1 and probe in CHARTED_PROBES:
                    chart = chart_probe(in_round, probe, charts)
                    alt = f"{probe}: throughput, p99 and CPU per request against concurrency"
                    section.insert(1, f"![{alt}](charts/{chart})")
                sections.append("\n\n".join(section))
    return sections


def write_report(folder: Path) -> Path:
    summary = Summary.read(folder / "summary.csv")
    default = summary.variant("default")
    environment_path = folder / "environment.json"
    environment = json.loads(environment_path.read_text()) if environment_path.exists() else {}
    charts = folder / "charts"
    charts.mkdir(exist_ok=True)
    sections = [
        "# WSGI vs ASGI: comparison report",
        INTRODUCTION,
        "## Machine and settings\n\n" + environment_section(environment),
        "## Warnings\n\n" + warnings_section(summary, environment),
        "## Headline comparisons\n\n" + headline_section(default),
        "## What middleware costs each interface\n\n" + middleware_section(summary),
        "## Django's stock ASGI stack against the project's async-native stack\n\n" + stack_section(summary),
        "## Throughput relative to Gunicorn sync workers (`def` view)\n\n"
        "At each probe's highest concurrency; above 1 is faster.\n\n" + ratio_table(default),
        *probe_sections(summary, charts),
    ]
    report = folder / "report.md"
    report.write_text("\n\n".join(sections) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.report", description="Write report.md and its charts for a results folder."
    )
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

"""Publishing a results folder as the project's latest figures: docs/results/.

Only what docs/results.md links to is copied (the report, its charts, the summary and the
environment), not Locust's per-run files or the server logs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from testbed.processes import ROOT

PUBLISHED = ROOT / "docs" / "results"
PUBLISHED_FILES = ("report.md", "summary.csv", "environment.json")


def publish(folder: Path, destination: Path = PUBLISHED) -> Path:
    """Copy a run's report, charts, summary and environment to `destination`."""
    # Replace what an earlier publish wrote; leave anything else in the folder alone.
    shutil.rmtree(destination / "charts", ignore_errors=True)
    (destination / "charts").mkdir(parents=True)
    for name in PUBLISHED_FILES:
        shutil.copy2(folder / name, destination / name)
    for chart in (folder / "charts").glob("*.png"):
        shutil.copy2(chart, destination / "charts" / chart.name)
    return destination

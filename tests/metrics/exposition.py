"""Reading /metrics and a server's metrics directory in tests."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "test-metrics-token"


def scrape(url: str, **labels: str) -> dict[str, float]:
    """Every sample of /metrics at `url` (read with the token), as {"name{label=value,...}": value},
    keeping only samples whose labels include `labels`."""
    response = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    response.raise_for_status()
    return samples(text_string_to_metric_families(response.text), labels)


def samples(families, labels: dict[str, str]) -> dict[str, float]:
    found = {}
    for family in families:
        for sample in family.samples:
            if labels.items() <= sample.labels.items():
                key = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                found[f"{sample.name}{{{key}}}"] = sample.value
    return found


def per_process(directory: Path, name: str, **labels: str) -> dict[int, float]:
    """One sample's value in each process's own file of a metrics directory, by PID: what each
    worker counted, before /metrics adds them up."""
    values = {}
    for path in glob.glob(os.path.join(directory, "*.db")):
        pid = int(Path(path).stem.rsplit("_", 1)[1])
        for family in MultiProcessCollector.merge([path], accumulate=False):
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    values[pid] = values.get(pid, 0.0) + sample.value
    return values

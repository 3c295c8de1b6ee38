"""`python -m loadtests.compare --quick`, run for real: the smoke test of the harness in `make test`."""

import csv
import json
import subprocess
import sys

import pytest

from testbed.processes import ROOT

pytestmark = pytest.mark.live

QUICK_TIMEOUT_SECONDS = 180


@pytest.fixture(scope="module")
def quick_run(live_database, shared_redis_url, tmp_path_factory):
    output = tmp_path_factory.mktemp("compare-quick")
    command = [sys.executable, "-m", "loadtests.compare", "--quick", "--output", str(output)]
    command += ["--database-url", live_database.url, "--redis-url", shared_redis_url]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=QUICK_TIMEOUT_SECONDS)
    assert result.returncode == 0, result.stderr
    return output, result


def summary_rows(output) -> list[dict[str, str]]:
    with (output / "summary.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def test_summary_has_a_row_for_every_server_probe_and_view_kind(quick_run):
    output, _ = quick_run

    rows = summary_rows(output)

    measured = {(row["server"], row["probe"], row["view_kind"]) for row in rows}
    assert measured == {
        (server, probe, kind)
        for server in ("gunicorn-sync", "uvicorn")
        for probe in ("hello", "sleep")
        for kind in ("sync", "async")
    }


def test_quick_runs_start_each_server_once_as_configured(quick_run):
    output, result = quick_run

    assert {row["variant"] for row in summary_rows(output)} == {"default"}
    assert "8 runs on 2 server starts" in result.stderr


def test_no_request_failed(quick_run):
    output, _ = quick_run

    assert [row["failures"] for row in summary_rows(output)] == ["0"] * 8


def test_every_run_served_requests_and_used_server_cpu(quick_run):
    output, _ = quick_run

    for row in summary_rows(output):
        assert int(row["requests"]) > 0, row
        assert float(row["rps"]) > 0, row
        assert 0 < float(row["p50_ms"]) <= float(row["p99_ms"]), row
        assert float(row["server_cpu"]) > 0, row
        assert float(row["locust_cpu"]) > 0, row


def test_sync_workers_serve_sleep_no_faster_than_littles_law_allows(quick_run):
    output, _ = quick_run

    for row in summary_rows(output):
        if row["server"] == "gunicorn-sync" and row["probe"] == "sleep":
            # 3 workers, one request each, 100 ms per request: at most 30 requests a second.
            assert float(row["rps"]) <= int(row["workers"]) / 0.1 * 1.05, row


def test_locusts_own_csv_and_html_are_kept_for_every_run(quick_run):
    output, _ = quick_run

    for row in summary_rows(output):
        slug = f"{row['server']}__{row['probe']}__{row['view_kind']}__u{row['users']}"
        assert (output / "locust" / f"{slug}_stats.csv").is_file()
        assert "<html" in (output / "locust" / f"{slug}.html").read_text().lower()


def test_environment_records_the_machine_versions_and_pinning(quick_run):
    output, _ = quick_run

    environment = json.loads((output / "environment.json").read_text())

    assert environment["machine"]["cpu_model"]
    assert environment["machine"]["cores"] >= 1
    assert environment["packages"]["Django"].startswith("5.")
    assert environment["settings"]["mode"] == "quick"
    assert environment["settings"]["server_cores"]
    assert set(environment["servers"]) == {"gunicorn-sync", "uvicorn"}


def test_report_shows_charts_and_ratios(quick_run):
    output, _ = quick_run

    report = (output / "report.md").read_text()

    assert "(charts/sleep.png)" in report
    assert (output / "charts" / "sleep.png").is_file()
    assert "| gunicorn-sync | sync | 1.00x | 1.00x |" in report


def test_progress_shows_runs_done_and_time_left(quick_run):
    _, result = quick_run

    assert "[......" in result.stderr
    assert "0/8 runs, ~" in result.stderr
    assert "s left" in result.stderr
    assert "done: 8 runs in" in result.stderr

"""report.md and its charts, drawn from a summary.csv written here (no servers started)."""

import csv
import json

import pytest

from loadtests.compare import SUMMARY_COLUMNS
from loadtests.report import main, publish, wait_seconds, write_report

THREADS = {"gunicorn-sync": 1, "gunicorn-gthread": 4}


def row(server: str, probe: str, view_kind: str, users: int, rps: float, **overrides) -> dict:
    interface = "wsgi" if server.startswith(("gunicorn-sync", "gunicorn-gthread", "granian-wsgi")) else "asgi"
    path = {"sleep": "sleep/?ms=100", "fanout": "fanout/?n=5&ms=50", "blocking": "blocking/?ms=100"}
    values = {
        "server": server,
        "interface": interface,
        "probe": probe,
        "view_kind": view_kind,
        "users": users,
        "middleware": "none" if probe == "hello-no-middleware" else "full",
        "requests": int(rps * 5),
        "rps": rps,
        "p50_ms": 10.0,
        "p95_ms": 20.0,
        "p99_ms": 30.0,
        "failures": 0,
        "server_cpu": 0.9,
        "locust_cpu": 0.3,
        "other_cpu": 0.0,
        "server_cpu_ms_per_request": 1.0,
        "workers": 3,
        "threads_per_worker": THREADS.get(server, ""),
        "url": f"/demo/{view_kind}/{path.get(probe, 'hello/')}",
    }
    values.update(overrides)
    return values


def write_results(folder, rows: list[dict], environment: dict | None = None):
    with (folder / "summary.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    (folder / "environment.json").write_text(
        json.dumps(environment or {"machine": {"cpu_model": "Test CPU"}})
    )
    return write_report(folder).read_text()


SLEEP_RUN = [
    row("gunicorn-sync", "sleep", "sync", 10, 29.5),
    row("gunicorn-sync", "sleep", "sync", 200, 29.5),
    row("uvicorn", "sleep", "async", 10, 98.0),
    row("uvicorn", "sleep", "async", 200, 1500.0),
    row("uvicorn", "hello", "async", 200, 1200.0),
    row("gunicorn-sync", "hello", "sync", 200, 2400.0),
]


def test_sleep_target_reports_the_speed_up_and_the_share_of_the_ceiling(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN)

    assert "= **50.8x** (target ≥ 10x: met)" in report
    # Ceiling: min(200 / 0.1 s = 2000, Uvicorn's hello 1200) = 1200; 1500 / 1200 = 125 %.
    assert "reached **125%** (target ≥ 90%: met)" in report


def test_a_missed_target_says_so(tmp_path):
    rows = [
        row("gunicorn-sync", "sleep", "sync", 200, 29.5),
        row("uvicorn", "sleep", "async", 200, 200.0),
        row("uvicorn", "hello", "async", 200, 1200.0),
    ]

    report = write_results(tmp_path, rows)

    assert "(target ≥ 10x: NOT met)" in report
    assert "(target ≥ 90%: NOT met)" in report


def test_hello_target_names_the_interface_ahead_and_by_how_much(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN)

    assert "WSGI ahead by 2.00x" in report


def test_middleware_cost_is_the_difference_in_cpu_per_request(tmp_path):
    rows = [
        row("gunicorn-sync", "hello", "sync", 20, 1000.0, server_cpu_ms_per_request=0.70),
        row("gunicorn-sync", "hello-no-middleware", "sync", 20, 1400.0, server_cpu_ms_per_request=0.50),
        row("uvicorn", "hello", "async", 20, 400.0, server_cpu_ms_per_request=2.40),
        row("uvicorn", "hello-no-middleware", "async", 20, 1600.0, server_cpu_ms_per_request=0.60),
    ]

    report = write_results(tmp_path, rows)

    assert (
        "| hello | gunicorn-sync | wsgi | sync | 20 | 1,000 | 1,400 | 1.40x | 0.70 | 0.50 | +0.20 |" in report
    )
    assert "| hello | uvicorn | asgi | async | 20 | 400 | 1,600 | 4.00x | 2.40 | 0.60 | +1.80 |" in report
    assert "**ASGI: 1.80 ms of server CPU per request**" in report
    assert "**WSGI: 0.20 ms of server CPU per request**" in report


def test_the_sleep_probe_without_middleware_is_set_against_the_same_concurrency(tmp_path):
    rows = [
        row("uvicorn", "sleep", "async", 50, 300.0, server_cpu_ms_per_request=3.0),
        row("uvicorn", "sleep", "async", 200, 320.0, server_cpu_ms_per_request=3.1),
        row("uvicorn", "sleep-no-middleware", "async", 200, 1600.0, server_cpu_ms_per_request=0.6),
    ]

    report = write_results(tmp_path, rows)

    assert "| sleep | uvicorn | asgi | async | 200 | 320 | 1,600 | 5.00x | 3.10 | 0.60 | +2.50 |" in report


def test_the_blocking_neighbour_is_set_against_async_sleep_alone(tmp_path):
    rows = [
        row("uvicorn", "sleep", "async", 10, 98.0, p50_ms=100.0, p99_ms=120.0),
        row("uvicorn", "sleep-next-to-blocking", "async", 10, 60.0, p50_ms=110.0, p99_ms=310.0),
    ]

    report = write_results(tmp_path, rows)

    assert "p50 100 → 110 ms, p99 120 → 310 ms, 98.0 → 60.0 req/s" in report


def test_ratios_are_relative_to_gunicorn_sync_workers_running_the_def_view(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN)

    assert "| gunicorn-sync | sync | 1.00x | 1.00x |" in report
    assert "| uvicorn | async | 0.50x | 50.85x |" in report


def test_failed_requests_are_listed_as_warnings(tmp_path):
    rows = [*SLEEP_RUN, row("uvicorn", "db", "async", 20, 300.0, failures=7)]

    report = write_results(tmp_path, rows)

    assert "- 7 failed requests: uvicorn async db @20." in report


def test_a_saturated_load_generator_is_flagged(tmp_path):
    rows = [*SLEEP_RUN, row("gunicorn-sync", "cpu", "sync", 10, 90.0, locust_cpu=0.97)]

    report = write_results(tmp_path, rows)

    assert "Locust used more than 90% of its core in 1 runs" in report
    assert "0.97 ⚠" in report


def test_runs_where_other_processes_took_the_servers_core_are_flagged(tmp_path):
    rows = [*SLEEP_RUN, row("uvicorn", "cpu", "async", 10, 60.0, other_cpu=0.4)]

    report = write_results(tmp_path, rows)

    assert "took more than 15% of the server's cores in 1 of 7 runs (up to 40%" in report
    assert "0.40 ⚠" in report


def test_a_clean_run_has_no_warnings(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN, {"machine": {"load_average_at_start": [0.1, 0.1, 0.1]}})

    assert "## Warnings\n\nNone." in report


def test_a_busy_machine_is_mentioned(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN, {"machine": {"load_average_at_start": [1.7, 1.2, 0.9]}})

    assert "The machine was not idle (load average 1.7 at the start)" in report


def test_charts_are_drawn_for_each_probe_and_linked(tmp_path):
    rows = [*SLEEP_RUN, row("uvicorn", "cpu", "sync", 10, 90.0)]

    report = write_results(tmp_path, rows)

    for probe in ("sleep", "hello", "cpu"):
        chart = tmp_path / "charts" / f"{probe}.png"
        assert chart.read_bytes().startswith(b"\x89PNG")
        assert f"(charts/{probe}.png)" in report


def test_probes_missing_from_the_run_are_left_out(tmp_path):
    report = write_results(tmp_path, [row("uvicorn", "hello", "async", 20, 400.0)])

    assert "## sleep" not in report
    assert "Not measured in this run" in report


@pytest.mark.parametrize(
    ("url", "seconds"),
    [("/demo/async/sleep/?ms=100", 0.1), ("/demo/sync/sleep/?ms=250&x=1", 0.25), ("/demo/sync/hello/", None)],
)
def test_the_wait_is_read_from_a_sleep_probes_url(url, seconds):
    assert wait_seconds(url) == seconds


def test_publish_copies_report_charts_summary_and_environment(tmp_path):
    results = tmp_path / "run"
    results.mkdir()
    write_results(results, SLEEP_RUN)

    published = publish(results, tmp_path / "docs-results")

    for name in ("report.md", "summary.csv", "environment.json", "charts/sleep.png"):
        assert (published / name).is_file()


def test_publishing_again_replaces_the_charts_and_keeps_other_files(tmp_path):
    results = tmp_path / "run"
    results.mkdir()
    write_results(results, SLEEP_RUN)
    destination = tmp_path / "docs-results"
    (destination / "charts").mkdir(parents=True)
    (destination / "charts" / "old-probe.png").write_bytes(b"stale")
    (destination / "notes.md").write_text("kept")

    publish(results, destination)

    assert not (destination / "charts" / "old-probe.png").exists()
    assert (destination / "notes.md").read_text() == "kept"


def test_the_command_refuses_a_folder_without_a_summary(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path)])

    assert exit_info.value.code == 2
    assert "has no summary.csv" in capsys.readouterr().err

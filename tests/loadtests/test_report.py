"""report.md as a whole: its sections, its warnings, and the command (no servers started)."""

import pytest

from loadtests.report import main
from tests.loadtests.summaries import SLEEP_RUN, row, write_results


def test_failed_requests_are_listed_as_warnings(tmp_path):
    rows = [*SLEEP_RUN, row("uvicorn", "db", "async", 20, 300.0, failures=7)]

    report = write_results(tmp_path, rows)

    assert "- 7 failed requests: uvicorn async db @20." in report


def test_a_clean_run_has_no_warnings(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN, {"machine": {"load_average_at_start": [0.1, 0.1, 0.1]}})

    assert "## Warnings\n\nNone." in report


def test_a_busy_machine_is_mentioned(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN, {"machine": {"load_average_at_start": [1.7, 1.2, 0.9]}})

    assert "The machine was not idle (load average 1.7 at the start)" in report


def test_the_variants_and_their_switches_are_listed_with_the_settings(tmp_path):
    environment = {"settings": {"variants": {"default": {}, "stock": {"DJANGO_ASGI_STACK": "stock"}}}}

    report = write_results(tmp_path, SLEEP_RUN, environment)

    assert "`default` (as configured); `stock` `DJANGO_ASGI_STACK=stock`." in report


def test_probes_missing_from_the_run_are_left_out(tmp_path):
    report = write_results(tmp_path, [row("uvicorn", "hello", "async", 20, 400.0)])

    assert "## sleep" not in report
    assert "Not measured in this run" in report


def test_a_variants_runs_get_their_own_table_after_the_default_ones(tmp_path):
    rows = [*SLEEP_RUN, row("uvicorn", "hello", "async", 20, 1600.0, variant="no-middleware")]

    report = write_results(tmp_path, rows)

    assert report.index("## sleep") < report.index("## hello, no-middleware")
    assert "| uvicorn | async | 20 | 1,600 |" in report.split("## hello, no-middleware")[1]


def test_the_command_refuses_a_folder_without_a_summary(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path)])

    assert exit_info.value.code == 2
    assert "has no summary.csv" in capsys.readouterr().err


def test_a_second_round_gets_its_own_table(tmp_path):
    rows = [
        *SLEEP_RUN,
        row("uvicorn", "hello", "async", 20, 500.0, variant="stock"),
        row("uvicorn", "hello", "async", 20, 700.0, variant="stock", round=2),
    ]

    report = write_results(tmp_path, rows)

    assert "| uvicorn | async | 20 | 700 |" in report.split("## hello, stock, round 2")[1]

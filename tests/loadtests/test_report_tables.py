"""The per-probe and relative-throughput tables of report.md (no servers started)."""

from tests.loadtests.summaries import SLEEP_RUN, row, write_results


def test_ratios_are_relative_to_gunicorn_sync_workers_running_the_def_view(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN)

    assert "| gunicorn-sync | sync | 1.00x | 1.00x |" in report
    assert "| uvicorn | async | 0.50x | 50.85x |" in report


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


def test_variant_runs_stay_out_of_the_relative_throughput_table(tmp_path):
    rows = [*SLEEP_RUN, row("uvicorn", "sleep", "async", 200, 3000.0, variant="no-middleware")]

    report = write_results(tmp_path, rows)

    assert "| uvicorn | async | 0.50x | 50.85x |" in report
    assert "101.69x" not in report


def test_without_the_baseline_the_relative_table_says_so(tmp_path):
    report = write_results(tmp_path, [row("uvicorn", "hello", "async", 20, 400.0)])

    assert "Not measured in this run (no probe ran on Gunicorn's sync workers)." in report

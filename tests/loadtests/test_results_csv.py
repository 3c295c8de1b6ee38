"""summary.csv written by the harness and read back by the report (no servers started)."""

import pytest

from loadtests.locust_runs import Measurement
from loadtests.plan import VARIANTS, plan
from loadtests.results_csv import SUMMARY_COLUMNS, Summary, summary_row, wait_seconds, write_summary
from loadtests.servers import server_configs
from tests.loadtests.summaries import row, write_summary_csv

MEASURED = Measurement(
    requests=1000,
    failures=0,
    rps=200.04,
    p50_ms=10.0,
    p95_ms=20.0,
    p99_ms=30.0,
    server_cpu=0.81234,
    locust_cpu=0.3,
    other_cpu=0.01,
)


def written_row(server: str, variant: str = "default"):
    runs = plan([server_configs(threads=4)[server]], ["hello"], [20], False, [VARIANTS[variant]])
    return summary_row(runs[0], MEASURED, workers=3)


def test_a_row_records_the_server_cpu_per_request_in_ms():
    assert written_row("uvicorn").server_cpu_ms_per_request == pytest.approx(4.061, abs=0.001)


def test_a_row_names_the_variant_the_server_ran_in():
    assert written_row("uvicorn", "stock").variant == "stock"


def test_written_rows_read_back_the_same(tmp_path):
    rows = [written_row("gunicorn-gthread"), written_row("uvicorn", "async-native")]

    write_summary(tmp_path / "summary.csv", rows)

    assert Summary.read(tmp_path / "summary.csv").rows == rows


def test_the_columns_are_the_ones_the_readme_documents():
    assert SUMMARY_COLUMNS[:6] == ["server", "interface", "probe", "view_kind", "users", "variant"]
    assert "server_cpu_ms_per_request" in SUMMARY_COLUMNS


def test_a_variant_selects_its_rows(tmp_path):
    write_summary_csv(
        tmp_path,
        [
            row("uvicorn", "hello", "async", 20, 400.0),
            row("uvicorn", "hello", "async", 20, 900.0, variant="stock"),
        ],
    )

    summary = Summary.read(tmp_path / "summary.csv")

    assert [r.rps for r in summary.variant("stock").rows] == [900.0]
    assert summary.variants() == ["default", "stock"]


def test_servers_come_in_the_order_of_the_configurations(tmp_path):
    write_summary_csv(
        tmp_path, [row("daphne", "hello", "async", 1, 1.0), row("gunicorn-sync", "hello", "sync", 1, 1.0)]
    )

    assert Summary.read(tmp_path / "summary.csv").servers() == ["gunicorn-sync", "daphne"]


@pytest.mark.parametrize(
    ("url", "seconds"),
    [("/demo/async/sleep/?ms=100", 0.1), ("/demo/sync/sleep/?ms=250&x=1", 0.25), ("/demo/sync/hello/", None)],
)
def test_the_wait_is_read_from_a_sleep_probes_url(url, seconds):
    assert wait_seconds(url) == seconds

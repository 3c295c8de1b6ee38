"""The report's charts (no servers started)."""

from tests.loadtests.summaries import SLEEP_RUN, row, write_results


def test_charts_are_drawn_for_each_probe_and_linked(tmp_path):
    rows = [*SLEEP_RUN, row("uvicorn", "cpu", "sync", 10, 90.0)]

    report = write_results(tmp_path, rows)

    for probe in ("sleep", "hello", "cpu"):
        chart = tmp_path / "charts" / f"{probe}.png"
        assert chart.read_bytes().startswith(b"\x89PNG")
        assert f"(charts/{probe}.png)" in report


def test_probes_that_are_not_charted_get_no_picture(tmp_path):
    rows = [*SLEEP_RUN, row("uvicorn", "blocking", "async", 50, 24.0)]

    report = write_results(tmp_path, rows)

    assert "## blocking" in report
    assert not (tmp_path / "charts" / "blocking.png").exists()

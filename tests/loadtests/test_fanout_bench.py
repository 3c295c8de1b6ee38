"""`make bench-fanout` works: the real benchmark, end to end, with 50 readers and one short round.

The figures of a full run are in docs/chat.md (appendix); this run proves that the three kinds are
measured on real servers, that every reader gets every message, and that the report has its shape."""

import json

import pytest

from loadtests import fanout_bench

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    results = tmp_path_factory.mktemp("fanout")
    arguments = ["--clients", "50", "--repeat", "1", "--duration", "2", "--rate", "2"]
    summary = fanout_bench.main([*arguments, "--client-processes", "2", "--results-dir", str(results)])
    return summary, (results / "summary.json").read_text()


@pytest.mark.timeout(240)
def test_every_reader_receives_every_message_of_every_kind(quick_run):
    summary, _ = quick_run
    runs = summary["runs"]
    assert sorted(run["kind"] for run in runs) == ["chat", "floor", "plain"]
    for run in runs:
        assert run["sent"] == 4
        assert run["received"] == run["expected"] == 4 * 50
        assert run["lost"] == 0


@pytest.mark.timeout(240)
def test_each_run_reports_latency_cpu_on_both_sides_and_memory(quick_run):
    summary, _ = quick_run
    for run in summary["runs"]:
        assert 0 < run["p50_ms"] <= run["p99_ms"] <= run["max_ms"]
        assert run["server_cpu_seconds"] > 0
        assert run["server_cpu_us_per_delivery"] > 0
        assert run["client_cpu_seconds"] > 0
        assert run["server_rss_mib_after"] > 0
        assert "kib_per_connection" in run


@pytest.mark.timeout(240)
def test_the_summary_compares_each_kind_with_the_floor_and_names_machine_and_command(quick_run):
    summary, written = quick_run
    assert json.loads(written) == summary
    rows = {row["kind"]: row for row in summary["summary"]}
    assert rows["floor"]["times_floor"] == 1.0
    assert rows["chat"]["times_floor"] > 0
    assert rows["plain"]["times_floor"] > 0
    assert {"cpu", "cores", "load_average", "versions"} <= set(summary["machine"])
    assert summary["command"].startswith("python")
    assert "--clients 50" in summary["command"]

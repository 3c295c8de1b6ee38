"""Publishing a results folder to docs/results/ (no servers started)."""

from loadtests.publish import publish
from tests.loadtests.summaries import SLEEP_RUN, write_results


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

"""How one Locust run is started and read back (no servers started)."""

from pathlib import Path

import pytest

from loadtests.locust_runs import locust_command, read_stats
from loadtests.plan import VARIANTS, plan
from loadtests.servers import server_configs


def test_reading_locust_stats_needs_the_measured_row(tmp_path):
    stats = tmp_path / "run_stats.csv"
    stats.write_text("Type,Name,Request Count\nGET,/demo/sync/hello/,10\n,Aggregated,10\n")

    assert read_stats(stats, "/demo/sync/hello/")["Request Count"] == "10"
    with pytest.raises(LookupError):
        read_stats(stats, "/demo/async/hello/")


def test_the_neighbour_user_comes_on_top_of_the_measured_users():
    (run,) = plan(
        [server_configs(threads=4)["uvicorn"]], ["sleep-next-to-blocking"], None, False, [VARIANTS["default"]]
    )

    command = locust_command(run, "http://127.0.0.1:1", 5, Path("out"))

    assert command[command.index("--users") + 1] == "11"
    assert command[command.index("--tags") + 1 :] == ["sleep", "blocking-neighbour"]
    assert "BlockingNeighbourUser" in command

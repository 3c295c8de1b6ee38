"""`make soak` and `make chaos` work: each runs here with a few clients for a few seconds.

The figures they print on a full run are in docs/reliability.md; these runs only prove that the
scripts start their servers, count what they say they count, and find nothing missing."""

import re

import pytest

from loadtests import chaos, soak

pytestmark = pytest.mark.live


def test_soak_delivers_every_message_to_every_reader_and_prints_memory_and_files(capsys):
    result = soak.main(["--clients", "6", "--rate", "2", "--duration", "3"])
    printed = capsys.readouterr().out

    assert result.sent == 6
    assert result.delivered == result.expected == 36
    assert result.closed_by_server == 0
    assert "Deliveries 36/36 (0 missing)" in printed
    assert (
        len(re.findall(r"Uvicorn \d: RSS MiB: idle [\d.]+  start [\d.]+  middle [\d.]+  end [\d.]+", printed))
        == 2
    )
    assert "open files: idle" in printed
    assert "Load average" in printed


@pytest.mark.parametrize("scenario", ["redis-restart", "sigterm-asgi"])
def test_chaos_counts_acknowledged_stored_and_delivered_and_loses_nothing(scenario, capsys):
    arguments = ["--scenarios", scenario, "--readers", "3", "--notification-clients", "2", "--duration", "10"]
    [outcome] = chaos.main(arguments)
    printed = capsys.readouterr().out

    assert outcome.notes == []
    assert outcome.acknowledged == outcome.sent > 0
    assert outcome.acknowledged_after_fault > 0
    assert (outcome.lost, outcome.missing, outcome.publications_missing) == (0, 0, 0)
    assert outcome.reconnects > 0  # the fault really dropped clients, and they came back
    assert f"{scenario}" in printed
    assert f"acknowledged {outcome.acknowledged}" in printed
    assert f"stored {outcome.stored}, lost 0, missing 0" in printed


def test_chaos_drop_mid_delivery_counts_the_subscriptions_left_in_redis(capsys):
    [outcome] = chaos.main(["--scenarios", "drop-mid-delivery", "--dropped-clients", "20"])
    printed = capsys.readouterr().out

    assert (outcome.closed, outcome.reset, outcome.failed_to_join) == (10, 10, 0)
    assert outcome.specific_after == outcome.specific_before
    assert "20 clients dropped mid-delivery (10 closed, 10 reset, 0 failed to join)" in printed
    assert f"{outcome.specific_before} before, {outcome.specific_after} after (0 leaked)" in printed

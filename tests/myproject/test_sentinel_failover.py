"""Redis high availability: the channel layer behind Sentinel survives the loss of its primary.

One primary, one replica and three sentinels on loopback; Gunicorn and two Uvicorn processes find
the master through the sentinels (REDIS_SENTINELS). Under chat traffic and report publications the
primary is killed halfway; the sentinels promote the replica, the clients are dropped, reconnect
with `?after=` and resume. One run (loadtests/chaos.py's sentinel-failover scenario, small), then
one test per promise.
"""

import asyncio

import pytest

from loadtests.chaos import LAYERS, Outcome, run_scenario, start_stack

pytestmark = pytest.mark.live

READERS = 6
NOTIFICATION_CLIENTS = 3
RATE = 2.0
# The primary dies at half time; the failover takes about 3 s (down-after 1 s, then the vote),
# which leaves several sends and publications after it.
DURATION_SECONDS = 16.0


@pytest.fixture(scope="module", params=LAYERS)
def failover(request, live_database, server_logs) -> Outcome:
    """One run per channel layer: both take the sentinels as their hosts."""
    stack = start_stack("sentinel-failover", server_logs, live_database.url, layer=request.param)
    try:
        return asyncio.run(
            run_scenario(stack, "sentinel-failover", READERS, NOTIFICATION_CLIENTS, RATE, DURATION_SECONDS)
        )
    finally:
        stack.stop()


def test_the_sentinels_promote_the_replica_when_the_primary_dies(failover):
    assert failover.notes == []  # the replica was named master within the failover timeout
    assert failover.fault_seconds > 0


def test_the_chat_goes_on_after_the_failover(failover):
    assert failover.acknowledged_after_fault > 0


def test_no_acknowledged_message_is_lost_across_the_failover(failover):
    assert failover.acknowledged == failover.sent
    assert failover.lost == 0
    assert failover.stored == failover.acknowledged


def test_dropped_clients_reconnect_and_resume_without_a_gap(failover):
    assert failover.reconnects > 0
    assert failover.missing == 0


def test_report_publications_after_the_failover_reach_every_notifications_client(failover):
    assert failover.publications_after_fault > 0
    assert failover.publications_stored == failover.published
    assert failover.publications_missing == 0

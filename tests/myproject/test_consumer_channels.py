"""Consumers give their channel back however their client leaves (myproject/consumer_channels.py).

Against two real Uvicorn processes with the Pub/Sub channel layer and a Redis of the test's own:
hundreds of chat readers drop while events flow into their room, half closing normally and half
resetting the connection, and every subscription they made in Redis goes with them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from loadtests.dropped_clients import drop_mid_delivery
from testbed.web import WebServer
from tests.chat.live import start_two_uvicorns

CLIENTS = 300


@pytest.fixture
def two_uvicorns_own_redis(live_database, redis_server, server_logs) -> Iterator[list[WebServer]]:
    servers = start_two_uvicorns(live_database, redis_server.url, server_logs)
    yield servers
    for server in servers:
        server.stop()


def test_readers_dropped_mid_delivery_leave_no_subscription_in_redis(two_uvicorns_own_redis, redis_server):
    urls = [server.url for server in two_uvicorns_own_redis]

    outcome = asyncio.run(drop_mid_delivery(urls, redis_server.url, CLIENTS))

    assert outcome.failed_to_join == 0, outcome.left_over
    assert (outcome.closed, outcome.reset) == (CLIENTS // 2, CLIENTS // 2)
    assert outcome.specific_after == outcome.specific_before, f"{outcome.leaked} channels leaked"
    assert outcome.group_subscribers_after == 0

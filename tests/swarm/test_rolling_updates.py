"""deploy/swarm/stack.yml on a single-node Docker Swarm: 2 WSGI and 2 ASGI replicas behind nginx,
changed under load the way an orchestrator changes them (a rolling update, a replica killed), and
counted from outside through nginx's host-mode port on 127.0.0.1. The tests share one stack and
run in file order."""

import asyncio
import time

import pytest
import requests

from loadtests.clients import sender_cookie
from tests.swarm.load import SteadyHttpLoad, chat_through

# The first build of the image takes minutes on a fresh machine.
pytestmark = [pytest.mark.swarm, pytest.mark.timeout(1200)]

REPLICAS = 2
# WEB_CONCURRENCY of the stack file's wsgi service.
WSGI_WORKERS_PER_REPLICA = 3
CHAT_CLIENTS = 200
# Seconds of load before and after each change, so that both sides of it are measured.
SETTLE_SECONDS = 3


def short_ids(containers: set[str]) -> set[str]:
    """Container IDs as the containers' host names (what the home page shows)."""
    return {container[:12] for container in containers}


def test_each_stack_runs_two_replicas_that_nginx_balances_over(swarm_stack):
    hosts = {SteadyHttpLoad.host_of(requests.get(f"{swarm_stack.url}/", timeout=10).text) for _ in range(20)}
    hello = requests.get(f"{swarm_stack.url}/demo/async/hello/", timeout=10)

    assert len(swarm_stack.containers("wsgi", healthy=True)) == REPLICAS
    assert len(swarm_stack.containers("asgi", healthy=True)) == REPLICAS
    assert hosts == short_ids(swarm_stack.containers("wsgi"))
    assert hello.headers["X-Interface"] == "asgi"


def test_a_rolling_update_of_the_asgi_service_loses_no_acknowledged_chat_message(swarm_stack):
    before = swarm_stack.containers("asgi")
    cookie = sender_cookie(swarm_stack.url)

    after: set[str] = set()
    outcome = asyncio.run(
        chat_through(swarm_stack.url, cookie, lambda: after.update(swarm_stack.update("asgi", REPLICAS)))
    )
    print(f"\nASGI rolling update: {outcome.summary()}")

    assert len(after) == REPLICAS
    assert after.isdisjoint(before)
    assert outcome.acknowledged > 0
    assert (outcome.lost, outcome.unacknowledged, outcome.missing) == (0, 0, 0)
    # Every replica was replaced, so every client was dropped at least once and came back.
    assert outcome.reconnected_clients == outcome.connected_at_end == CHAT_CLIENTS


def test_a_rolling_update_of_the_wsgi_service_fails_no_request(swarm_stack):
    before = swarm_stack.containers("wsgi")

    with SteadyHttpLoad(swarm_stack.url) as load:
        time.sleep(SETTLE_SECONDS)
        after = swarm_stack.update("wsgi", REPLICAS)
        time.sleep(SETTLE_SECONDS)
    outcome = load.outcome
    print(f"\nWSGI rolling update: {outcome.summary()}")

    assert len(after) == REPLICAS
    assert after.isdisjoint(before)
    assert outcome.ok > 0
    assert dict(outcome.failures) == {}
    assert set(outcome.hosts[: load.connections]) <= short_ids(before)
    assert set(outcome.hosts[-load.connections :]) <= short_ids(after)


def test_a_killed_wsgi_replica_is_replaced_and_only_responses_it_had_begun_are_cut(swarm_stack):
    with SteadyHttpLoad(swarm_stack.url) as load:
        time.sleep(SETTLE_SECONDS)
        victim = swarm_stack.kill_one("wsgi")
        after = swarm_stack.wait_for_replacement("wsgi", victim, REPLICAS)
        time.sleep(SETTLE_SECONDS)
    outcome = load.outcome
    print(f"\nWSGI replica killed: {outcome.summary()}")

    assert victim not in after
    assert outcome.ok > 0
    # A request the killed replica had not yet answered is a GET: nginx passes it to the other
    # replica (proxy_next_upstream). A response it had begun to send cannot be taken back: its
    # client gets the headers and a cut body. A sync worker sends one response at a time, so at
    # most one per worker of the killed replica; nothing else fails (no 502, no timeout).
    assert set(outcome.failures) <= {"ChunkedEncodingError"}
    assert outcome.failed <= WSGI_WORKERS_PER_REPLICA


def test_a_killed_asgi_replica_is_replaced_and_no_acknowledged_chat_message_is_lost(swarm_stack):
    cookie = sender_cookie(swarm_stack.url)
    killed = []

    def kill_and_wait() -> None:
        killed.append(swarm_stack.kill_one("asgi"))
        swarm_stack.wait_for_replacement("asgi", killed[0], REPLICAS)

    outcome = asyncio.run(chat_through(swarm_stack.url, cookie, kill_and_wait))
    print(f"\nASGI replica killed: {outcome.summary()}")

    assert killed[0] not in swarm_stack.containers("asgi", healthy=True)
    assert outcome.acknowledged > 0
    assert (outcome.lost, outcome.unacknowledged, outcome.missing) == (0, 0, 0)
    # The killed replica's clients were dropped with no close frame, and every one came back.
    assert 0 < outcome.reconnected_clients < CHAT_CLIENTS
    assert outcome.connected_at_end == CHAT_CLIENTS

"""/ws/race/ in process (demo/consumers.py): every frame is checked, a bad one gets an error frame and
the socket stays open; one race per socket, a few per process. The races themselves run against real
servers in test_race_live.py."""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator
from prometheus_client import REGISTRY

from demo import consumers
from demo.consumers import RaceConsumer
from demo.race_driver import races_in_use
from demo.race_rules import MAX_RACES_PER_PROCESS

# Channels closes the thread's old database connections when a socket disconnects: the race touches
# no database, but the check needs database access allowed.
pytestmark = pytest.mark.django_db(transaction=True)

FRAME_TIMEOUT = 5
RACE = {"type": "race", "probe": "sleep", "params": {"ms": 10}, "n": 2, "groups": ["async-asgi"]}


@pytest.fixture
def stacks(settings):
    settings.RACE_WSGI_URL = "http://127.0.0.1:9"
    settings.RACE_ASGI_URL = "http://127.0.0.1:10"


async def connected(
    server: tuple[str, int] | None = None, client: str = "127.0.0.1"
) -> tuple[WebsocketCommunicator, dict]:
    communicator = WebsocketCommunicator(RaceConsumer.as_asgi(), "/ws/race/")
    if server:
        communicator.scope["server"] = server
    communicator.scope["client"] = (client, 50000)
    ok, _ = await communicator.connect(timeout=FRAME_TIMEOUT)
    assert ok
    return communicator, await communicator.receive_json_from(timeout=FRAME_TIMEOUT)


@pytest.fixture
def held_races(monkeypatch):
    """Races that start and then wait until the test lets them go: the driver itself is tested live."""
    release = asyncio.Event()
    started: list[object] = []
    cancelled: list[object] = []

    async def held_race(race, stacks, send) -> None:
        started.append(race)
        await send({"type": "race.started"})
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled.append(race)
            raise

    monkeypatch.setattr(consumers, "run_race", held_race)
    yield started, cancelled
    release.set()


async def test_the_first_frame_names_the_stacks_raced_and_the_limits(stacks):
    communicator, ready = await connected()

    assert ready["type"] == "ready"
    assert ready["stacks"] == ["asgi", "wsgi"]
    assert ready["limits"]["max_requests"] == 100
    await communicator.disconnect()


async def test_without_configured_stacks_it_races_the_asgi_server_it_runs_on(settings):
    settings.RACE_WSGI_URL = settings.RACE_ASGI_URL = ""
    communicator, ready = await connected(server=("127.0.0.1", 8000))

    assert ready["stacks"] == ["asgi"]
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": "message", "text": "hi"}', "invalid_frame"),
        ('"race"', "invalid_frame"),
        (json.dumps({**RACE, "n": 1000}), "invalid_race"),
        (json.dumps({**RACE, "groups": ["http://169.254.169.254/"]}), "invalid_race"),
        (json.dumps({**RACE, "probe": "../../admin"}), "invalid_race"),
    ],
)
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays_open(stacks, sent, code):
    communicator, _ = await connected()

    await communicator.send_to(text_data=sent)
    error = await communicator.receive_json_from(timeout=FRAME_TIMEOUT)
    await communicator.send_to(text_data="still there?")
    again = await communicator.receive_json_from(timeout=FRAME_TIMEOUT)

    assert error["type"] == "error"
    assert error["code"] == code
    assert error["detail"]
    assert again["code"] == "invalid_json"
    await communicator.disconnect()


async def test_a_binary_frame_gets_an_error_frame(stacks):
    communicator, _ = await connected()

    await communicator.send_to(bytes_data=b"\x00\x01")

    assert (await communicator.receive_json_from(timeout=FRAME_TIMEOUT))["code"] == "invalid_frame"
    await communicator.disconnect()


async def test_a_socket_runs_one_race_at_a_time(stacks, held_races):
    started, _ = held_races
    communicator, _ = await connected()

    await communicator.send_json_to(RACE)
    assert (await communicator.receive_json_from(timeout=FRAME_TIMEOUT))["type"] == "race.started"
    await communicator.send_json_to(RACE)
    refused = await communicator.receive_json_from(timeout=FRAME_TIMEOUT)

    assert refused["code"] == "busy"
    assert len(started) == 1
    await communicator.disconnect()


async def test_a_process_runs_a_bounded_number_of_races(stacks, held_races):
    sockets = []
    for number in range(MAX_RACES_PER_PROCESS):
        communicator, _ = await connected(client=f"192.0.2.{number + 1}")
        await communicator.send_json_to(RACE)
        assert (await communicator.receive_json_from(timeout=FRAME_TIMEOUT))["type"] == "race.started"
        sockets.append(communicator)
    one_more, _ = await connected(client="198.51.100.1")

    await one_more.send_json_to(RACE)

    assert (await one_more.receive_json_from(timeout=FRAME_TIMEOUT))["code"] == "server_busy"
    for communicator in [*sockets, one_more]:
        await communicator.disconnect()


async def test_the_races_in_use_are_counted_for_the_metrics(stacks, held_races):
    communicator, _ = await connected()
    await communicator.send_json_to(RACE)
    await communicator.receive_json_from(timeout=FRAME_TIMEOUT)

    assert races_in_use() == 1
    await communicator.disconnect()
    await asyncio.sleep(0.1)  # the consumer's release cancels the race; its finally runs next
    assert races_in_use() == 0


async def test_a_client_runs_one_race_at_a_time_whatever_its_sockets(stacks, held_races):
    first, _ = await connected(client="192.0.2.1")
    await first.send_json_to(RACE)
    assert (await first.receive_json_from(timeout=FRAME_TIMEOUT))["type"] == "race.started"
    second, _ = await connected(client="192.0.2.1")
    other_client, _ = await connected(client="192.0.2.2")

    await second.send_json_to(RACE)
    await other_client.send_json_to(RACE)

    assert (await second.receive_json_from(timeout=FRAME_TIMEOUT))["code"] == "client_busy"
    assert (await other_client.receive_json_from(timeout=FRAME_TIMEOUT))["type"] == "race.started"
    for communicator in (first, second, other_client):
        await communicator.disconnect()


async def test_leaving_mid_race_stops_the_race_and_frees_its_place(stacks, held_races):
    communicator, _ = await connected()
    await communicator.send_json_to(RACE)
    await communicator.receive_json_from(timeout=FRAME_TIMEOUT)

    await communicator.disconnect()
    await asyncio.sleep(0.05)
    others = []
    for _ in range(MAX_RACES_PER_PROCESS):
        other, _ = await connected()
        await other.send_json_to(RACE)
        others.append((await other.receive_json_from(timeout=FRAME_TIMEOUT))["type"])
        await other.disconnect()

    _, cancelled = held_races
    assert len(cancelled) >= 1
    assert others == ["race.started"] * MAX_RACES_PER_PROCESS


async def test_a_running_race_holds_a_race_slot_in_metrics_until_it_ends(stacks, held_races):
    def races_in_metrics() -> float:
        return REGISTRY.get_sample_value("demo_race_slots_in_use", {"bound": "races"}) or 0.0

    before = races_in_metrics()
    communicator, _ = await connected()
    await communicator.send_json_to(RACE)
    await communicator.receive_json_from(timeout=FRAME_TIMEOUT)
    during = races_in_metrics()

    await communicator.disconnect()
    await asyncio.sleep(0.05)

    assert during == before + 1
    assert races_in_metrics() == before

"""A sharded channel layer (several comma-separated URLs in REDIS_URL) joins the processes like one
Redis does, and a restart of any one shard is noticed. Real Uvicorn processes, real Redis servers."""

import uuid

import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from myproject.realtime.close_codes import CLOSE_TRY_AGAIN_LATER
from myproject.realtime.layer import LAYER_TIMEOUT_SECONDS
from reports.redis_watch import WATCH_SECONDS
from testbed.redis_server import RedisServer
from tests.chat.live import joined, next_frame_of_type, send_message, session_cookie, start_two_uvicorns

pytestmark = pytest.mark.live

ROOMS = 8  # enough room groups that both shards carry some (each group hashes onto one shard)


@pytest.fixture
def two_shards(server_logs):
    shards = [RedisServer(server_logs), RedisServer(server_logs)]
    for shard in shards:
        shard.start()
    yield shards
    for shard in shards:
        shard.stop()


@pytest.fixture
def sharded_uvicorns(live_database, two_shards, server_logs):
    servers = start_two_uvicorns(live_database, ",".join(shard.url for shard in two_shards), server_logs)
    yield servers
    for server in servers:
        server.stop()


def publishes(shard: RedisServer) -> int:
    with redis.Redis.from_url(shard.url) as client:
        return client.info("commandstats").get("cmdstat_publish", {}).get("calls", 0)


def test_messages_cross_processes_through_both_shards(sharded_uvicorns, two_shards):
    sender_server, reader_server = sharded_uvicorns
    cookie = session_cookie(sender_server, "alice")
    before = [publishes(shard) for shard in two_shards]

    for number in range(ROOMS):
        room = f"shard-{number}-{uuid.uuid4().hex[:8]}"
        alice, _, _ = joined(sender_server, room, cookie)
        reader, _, _ = joined(reader_server, room)
        send_message(alice, f"hello {number}", f"shard-{room}")
        assert next_frame_of_type(reader, "message")["text"] == f"hello {number}"
        alice.close()
        reader.close()

    assert all(publishes(shard) > count for shard, count in zip(two_shards, before, strict=True))


@pytest.mark.parametrize("shard_index", [0, 1])
def test_a_restart_of_either_shard_closes_notification_sockets_with_1013(
    sharded_uvicorns, two_shards, shard_index
):
    server = sharded_uvicorns[0]
    with connect(
        f"ws://127.0.0.1:{server.port}/ws/notifications/", origin=server.url, open_timeout=10
    ) as socket:
        two_shards[shard_index].stop()
        two_shards[shard_index].start()

        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=WATCH_SECONDS + LAYER_TIMEOUT_SECONDS + 3)

    assert closed.value.rcvd.code == CLOSE_TRY_AGAIN_LATER

import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer
from redis.exceptions import ConnectionError as RedisConnectionError

from chat.presence import (
    LocalConnection,
    LocalPresenceStore,
    PresenceSnapshot,
    ProcessPresence,
    RedisPresenceStore,
    member_of,
)
from chat.protocol import room_group

TTL = 15.0


class FakeClock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.live)])
async def store(request, clock):
    if request.param == "local":
        yield LocalPresenceStore(TTL, clock=clock)
        return
    redis_store = RedisPresenceStore(request.getfixturevalue("shared_redis_url"), TTL, clock=clock)
    yield redis_store
    await redis_store.close()


@pytest.fixture
def room() -> str:
    return f"presence-{uuid.uuid4().hex[:12]}"


def member(username: str, channel: str = "") -> str:
    return member_of(f"specific.{channel or uuid.uuid4().hex}", username)


async def test_adding_a_user_changes_the_list(store, room):
    snapshot = await store.update(room, "add", [member("alice")])

    assert snapshot.users == ["alice"]
    assert snapshot.changed


async def test_users_are_listed_once_in_name_order(store, room):
    await store.update(room, "add", [member("carol"), member("alice")])

    snapshot = await store.update(room, "add", [member("alice")])

    assert snapshot.users == ["alice", "carol"]
    assert not snapshot.changed


async def test_usernames_with_spaces_survive(store, room):
    assert (await store.update(room, "add", [member("ann marie")])).users == ["ann marie"]


async def test_a_user_leaves_when_their_last_connection_does(store, room):
    first, second = member("alice"), member("alice")
    await store.update(room, "add", [first, second])

    still_there = await store.update(room, "remove", [first])
    gone = await store.update(room, "remove", [second])

    assert (still_there.users, still_there.changed) == (["alice"], False)
    assert (gone.users, gone.changed) == ([], True)


async def test_the_version_grows_with_each_change_only(store, room):
    first = await store.update(room, "add", [member("alice")])
    unchanged = await store.update(room, "add", [member("alice")])
    second = await store.update(room, "add", [member("bob")])

    assert unchanged.version == first.version
    assert second.version > first.version


async def test_a_refresh_keeps_members_alive_past_their_first_expiry(store, room, clock):
    alice = member("alice")
    await store.update(room, "add", [alice])

    for _ in range(4):
        clock.now += TTL / 3
        await store.update(room, "refresh", [alice])

    assert (await store.update(room, "refresh", [])).users == ["alice"]


async def test_a_refresh_never_brings_back_a_member_that_left(store, room):
    alice = member("alice")
    await store.update(room, "add", [alice])
    await store.update(room, "remove", [alice])

    assert (await store.update(room, "refresh", [alice])).users == []


async def test_members_nobody_refreshes_expire_and_that_counts_as_a_change(store, room, clock):
    await store.update(room, "add", [member("alice")])
    await store.update(room, "add", [member("bob")])
    before = await store.update(room, "refresh", [])

    clock.now += TTL + 1
    after = await store.update(room, "refresh", [])

    assert (after.users, after.changed) == ([], True)
    assert after.version > before.version


async def test_versions_keep_growing_after_a_room_was_forgotten(store, room, clock):
    alice = member("alice")
    first = await store.update(room, "add", [alice])
    await store.update(room, "remove", [alice])

    clock.now += 3600  # long enough for Redis to drop the room's keys
    if isinstance(store, RedisPresenceStore):
        await store.redis.delete(f"chat:presence:{room}", f"chat:presence:{room}:version")
    again = await store.update(room, "add", [alice])

    assert again.version > first.version


# One process's tracker ----------------------------------------------------------------------------


def connection(room: str, username: str | None, lost=None) -> LocalConnection:
    async def nothing() -> None:
        pass

    return LocalConnection(room, f"specific.{uuid.uuid4().hex}", username, lost or nothing)


async def test_a_dead_process_s_users_expire_and_the_room_is_told(clock, room, settings):
    settings.REDIS_URL = ""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    shared = LocalPresenceStore(TTL, clock=clock)  # the one Redis both processes share
    dying, surviving = ProcessPresence(shared, TTL / 3), ProcessPresence(shared, TTL / 3)
    await dying.join(connection(room, "alice"))
    await surviving.join(connection(room, "bob"))
    layer = get_channel_layer()
    listener = await layer.new_channel()
    await layer.group_add(room_group(room), listener)

    dying._heartbeat.cancel()  # the process is killed: no leave, no more heartbeats
    clock.now += TTL + 1
    await surviving.beat()

    event = await asyncio.wait_for(layer.receive(listener), 2)
    assert (event["type"], event["users"]) == ("chat.presence", ["bob"])
    surviving._heartbeat.cancel()


async def test_when_the_store_stops_answering_every_connection_is_closed(room):
    class UnreachableAfterJoin(LocalPresenceStore):
        async def update(self, room, mode, members):
            if mode == "refresh":
                raise RedisConnectionError("Connection refused")
            return await super().update(room, mode, members)

    closed = asyncio.Event()
    presence = ProcessPresence(UnreachableAfterJoin(TTL), heartbeat_seconds=0.01)

    async def lost() -> None:
        closed.set()

    await presence.join(connection(room, "alice", lost))

    await asyncio.wait_for(closed.wait(), 2)
    assert presence.rooms == {}


async def test_a_connection_whose_close_fails_does_not_keep_the_others_open(room):
    class UnreachableAfterJoin(LocalPresenceStore):
        async def update(self, room, mode, members):
            if mode == "refresh":
                raise RedisConnectionError("Connection refused")
            return await super().update(room, mode, members)

    presence = ProcessPresence(UnreachableAfterJoin(TTL), heartbeat_seconds=0.01)
    closed = [asyncio.Event() for _ in range(3)]

    async def crashes() -> None:
        raise RuntimeError("this consumer is broken")

    def closer(event: asyncio.Event):
        async def lost() -> None:
            event.set()

        return lost

    await presence.join(connection(room, "broken", crashes))
    for number, event in enumerate(closed):
        await presence.join(connection(room, f"user-{number}", closer(event)))

    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in closed)), 2)
    assert presence.rooms == {}


async def test_the_heartbeat_stops_when_the_last_connection_leaves(room):
    presence = ProcessPresence(LocalPresenceStore(TTL), heartbeat_seconds=60)
    alice = connection(room, "alice")
    await presence.join(alice)
    heartbeat = presence._heartbeat

    snapshot = await presence.leave(alice)
    await asyncio.sleep(0)

    assert snapshot == PresenceSnapshot(version=snapshot.version, users=[], changed=True)
    assert heartbeat.cancelled()


async def test_an_anonymous_reader_is_tracked_but_never_stored(room):
    presence = ProcessPresence(LocalPresenceStore(TTL), heartbeat_seconds=60)
    reader = connection(room, None)

    snapshot = await presence.join(reader)

    assert snapshot.users == []
    assert reader.channel_name in presence.rooms[room]
    assert await presence.leave(reader) is None


async def test_a_failed_join_leaves_nothing_behind(room):
    class Unreachable(LocalPresenceStore):
        async def update(self, room, mode, members):
            raise RedisConnectionError("Connection refused")

    presence = ProcessPresence(Unreachable(TTL), heartbeat_seconds=60)

    with pytest.raises(RedisConnectionError):
        await presence.join(connection(room, "alice"))

    assert presence.rooms == {}
    assert presence._heartbeat is None

"""ProcessGroups (myproject/realtime/groups.py): one entry per group and process in the channel layer,
each message received once and offered to every consumer of the process; on the in-memory layer and
on both Redis layers."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from redis.asyncio import Redis

from myproject.realtime.dispatch import Dispatcher
from myproject.realtime.groups import ProcessGroups


@pytest.fixture(
    params=[
        "InMemoryChannelLayer",
        pytest.param("RedisChannelLayer", marks=pytest.mark.live),
        pytest.param("RedisPubSubChannelLayer", marks=pytest.mark.live),
    ]
)
async def layer(request):
    prefix = f"test-groups-{uuid.uuid4().hex[:8]}"
    if request.param == "InMemoryChannelLayer":
        yield InMemoryChannelLayer()
        return
    url = request.getfixturevalue("shared_redis_url")
    kind = RedisChannelLayer if request.param == "RedisChannelLayer" else RedisPubSubChannelLayer
    layer = kind(hosts=[url], prefix=prefix)
    layer.test_redis = Redis.from_url(url)  # to look at what the layer left in Redis
    yield layer
    if isinstance(layer, RedisChannelLayer):
        await layer.close_pools()
    else:
        await layer.flush()
    await layer.test_redis.aclose()


async def entries_in_group(layer, group: str) -> int:
    """How many channels the layer holds in `group`: in Redis, what every process sees."""
    if isinstance(layer, InMemoryChannelLayer):
        return len(layer.groups.get(group, {}))
    if isinstance(layer, RedisChannelLayer):
        return await layer.test_redis.zcard(f"{layer.prefix}:group:{group}")
    # The Pub/Sub layer: one subscription per process to the group's Redis channel, and one to each
    # channel it made (a consumer's, or a feed's).
    return len(await layer.test_redis.pubsub_channels(f"{layer._get_layer().prefix}*"))


RUNNING: list[asyncio.Task] = []


@pytest.fixture(autouse=True)
async def members_stop_at_the_end():
    yield
    for task in RUNNING:
        task.cancel()
    await asyncio.gather(*RUNNING, return_exceptions=True)
    RUNNING.clear()


class Member:
    """A consumer's dispatcher, its loop running, that notes each event it handles."""

    def __init__(self) -> None:
        self.handled: list[object] = []
        self.dispatcher = Dispatcher(self.dispatch)
        self.loop = asyncio.create_task(self.dispatcher.run([asyncio.Event().wait]))
        RUNNING.append(self.loop)

    async def dispatch(self, event) -> None:
        self.handled.append(event)


async def until(condition, seconds: float = 5.0) -> None:
    """Poll `condition` for up to `seconds`; fail if it never holds."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_a_process_is_in_a_group_once_and_offers_each_message_once_to_every_member(layer):
    groups, group = ProcessGroups(), "room-a"
    members = [Member() for _ in range(3)]
    for member in members:
        await groups.join(layer, group, member.dispatcher)

    pubsub_extra = 1 if isinstance(layer, RedisPubSubChannelLayer) else 0  # the feed's own channel
    assert await entries_in_group(layer, group) == 1 + pubsub_extra
    await layer.group_send(group, {"type": "chat.message", "id": 1})
    await until(lambda: all(member.handled for member in members))
    await asyncio.sleep(0.05)  # and nothing more arrives

    assert [member.handled for member in members] == [[{"type": "chat.message", "id": 1}]] * 3
    # Decoded once: every member was handed the same object.
    assert members[0].handled[0] is members[1].handled[0] is members[2].handled[0]


async def test_the_last_member_to_leave_takes_the_process_out_of_the_group(layer):
    groups, group = ProcessGroups(), "room-b"
    first, second = Member(), Member()
    await groups.join(layer, group, first.dispatcher)
    await groups.join(layer, group, second.dispatcher)

    await groups.leave(group, first.dispatcher)
    assert await entries_in_group(layer, group) >= 1
    await groups.leave(group, second.dispatcher)

    assert await entries_in_group(layer, group) == 0
    assert groups.feeds == {}


async def test_a_leave_cancelled_half_way_still_takes_the_process_out_of_the_group(layer):
    groups, group = ProcessGroups(), "room-c"
    member = Member()
    await groups.join(layer, group, member.dispatcher)

    leaving = asyncio.create_task(groups.leave(group, member.dispatcher))
    await asyncio.sleep(0)  # under way: the feed's receive is being cancelled
    leaving.cancel()  # the consumer's task is cancelled, as when the server shuts down

    await until(lambda: not groups.feeds)
    assert await entries_in_group(layer, group) == 0


async def test_a_member_joining_while_the_last_one_leaves_gets_the_groups_messages(layer):
    groups, group = ProcessGroups(), "room-d"
    leaving, joining = Member(), Member()
    await groups.join(layer, group, leaving.dispatcher)

    await asyncio.gather(
        groups.leave(group, leaving.dispatcher), groups.join(layer, group, joining.dispatcher)
    )
    await layer.group_send(group, {"type": "chat.message", "id": 2})

    await until(lambda: joining.handled)
    assert joining.handled == [{"type": "chat.message", "id": 2}]
    assert leaving.handled == []
    assert list(groups.feeds) == [group]


async def test_a_join_refused_by_redis_raises_and_leaves_nothing_behind(layer, monkeypatch):
    async def refused(group, channel):
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(layer, "group_add", refused)
    groups, member = ProcessGroups(), Member()

    with pytest.raises(ConnectionError):
        await groups.join(layer, "room-e", member.dispatcher)

    assert groups.feeds == {}
    assert await entries_in_group(layer, "room-e") == 0  # the Pub/Sub layer: its channel was given back


async def test_when_the_feed_loses_the_layer_every_member_ends_with_the_error_and_a_new_join_works(
    monkeypatch,
):
    # A receive that fails as RedisChannelLayer's does when Redis goes away (a live restart of Redis
    # under a running server is tests/myproject/test_redis_restart_live.py's).
    layer = InMemoryChannelLayer()
    groups, group = ProcessGroups(), "room-f"
    members = [Member(), Member()]
    real_receive = layer.receive

    async def fails(channel):
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(layer, "receive", fails)
    for member in members:
        await groups.join(layer, group, member.dispatcher)

    for member in members:
        with pytest.raises(ConnectionError, match="Redis went away"):
            await member.loop
    assert groups.feeds == {}

    monkeypatch.setattr(layer, "receive", real_receive)
    again = Member()
    await groups.join(layer, group, again.dispatcher)
    await layer.group_send(group, {"type": "chat.message", "id": 3})
    await until(lambda: again.handled)


async def test_a_message_the_layer_cannot_read_is_skipped_logged_and_the_next_one_arrives(
    monkeypatch, caplog
):
    layer = InMemoryChannelLayer()
    groups, group, member = ProcessGroups(), "room-g", Member()
    real_receive = layer.receive
    messages = 0

    async def first_unreadable(channel):
        nonlocal messages
        event = await real_receive(channel)
        messages += 1
        if messages == 1:
            raise ValueError("unpack(b) received extra data")  # what msgpack says of garbage
        return event

    monkeypatch.setattr(layer, "receive", first_unreadable)
    await groups.join(layer, group, member.dispatcher)
    await layer.group_send(group, {"type": "chat.message", "id": 1})
    await layer.group_send(group, {"type": "chat.message", "id": 2})

    await until(lambda: member.handled)
    assert member.handled == [{"type": "chat.message", "id": 2}]
    assert "skipped a message that could not be read" in caplog.text

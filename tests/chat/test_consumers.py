"""Every frame and error code of /ws/chat/<room>/, through the project's whole ASGI application,
on the in-memory layer and on a real Redis layer (the `layer` fixture runs each test on both)."""

import json
from collections import Counter

import pytest
from channels.layers import get_channel_layer

from chat.consumers import ChatConsumer, GaplessDelivery
from chat.models import MESSAGE_MAX_LENGTH
from chat.protocol import message_event, presence_event, room_group
from chat.selectors import HISTORY_LENGTH, RESUME_BATCH
from myproject.realtime.close_codes import CLOSE_POLICY_VIOLATION, close_event
from tests.chat.communicators import announce, ids, join, receive, refused, stored, texts_in_database
from tests.chat.conftest import FRAME_TIMEOUT

pytestmark = [pytest.mark.usefixtures("layer"), pytest.mark.django_db(transaction=True)]

# Handshake ----------------------------------------------------------------------------------------


async def test_a_new_connection_gets_history_then_presence(connect, room):
    _, history, presence = await join(connect, room, "alice")

    assert history == {"type": "history", "messages": []}
    assert presence == {"type": "presence", "users": ["alice"]}


async def test_history_is_the_last_50_messages_oldest_first(connect, room):
    posted = await stored(room, HISTORY_LENGTH + 5)

    _, history, _ = await join(connect, room)

    assert ids(history["messages"]) == [each.frame["id"] for each in posted[-HISTORY_LENGTH:]]
    assert history["messages"][-1] == posted[-1].frame


async def test_after_resumes_with_exactly_the_missed_messages(connect, room):
    posted = await stored(room, 8)

    _, history, _ = await join(connect, room, query=f"?after={posted[4].frame['id']}")

    assert history["messages"] == [each.frame for each in posted[5:]]


async def test_a_resume_longer_than_one_history_continues_as_message_frames(connect, room):
    posted = await stored(room, RESUME_BATCH + 3)

    communicator, history, _ = await join(connect, room, query="?after=0")

    rest = [await receive(communicator) for _ in range(3)]
    assert ids(history["messages"]) + ids(rest) == [each.frame["id"] for each in posted]
    later = await announce(room)
    assert await receive(communicator) == later


@pytest.mark.parametrize("after", ["abc", "-1", "", "1.5", "99999999999999999999"])
async def test_a_bad_after_is_refused_at_the_handshake(connect, room, after):
    assert await refused(connect, f"/ws/chat/{room}/?after={after}")


@pytest.mark.parametrize("name", ["has space", "x" * 51, "dot.ted", "émile", ""])
async def test_a_room_name_outside_the_contract_is_refused_at_the_handshake(connect, name):
    assert await refused(connect, f"/ws/chat/{name}/")


async def test_a_hostile_origin_is_refused(connect, room):
    assert await refused(connect, f"/ws/chat/{room}/", "alice", origin=(b"origin", b"https://evil.example"))


async def test_a_missing_origin_is_refused(connect, room):
    assert await refused(connect, f"/ws/chat/{room}/", "alice", origin=None)


# Sending ------------------------------------------------------------------------------------------


async def test_a_message_is_stored_then_sent_to_everyone_in_the_room_the_sender_included(connect, room):
    alice, _, _ = await join(connect, room, "alice")
    reader, _, _ = await join(connect, room)

    await alice.send_json_to({"type": "message", "text": "hello", "client_id": "c-1"})

    frame = await receive(alice)
    assert await receive(reader) == frame
    assert frame == {
        "type": "message",
        "id": frame["id"],
        "room": room,
        "user": "alice",
        "text": "hello",
        "created": frame["created"],
        "client_id": "c-1",
    }
    assert await texts_in_database() == ["hello"]


async def test_client_id_is_null_when_the_client_sent_none(connect, room):
    alice, _, _ = await join(connect, room, "alice")

    await alice.send_json_to({"type": "message", "text": "hello"})

    assert (await receive(alice))["client_id"] is None


async def test_other_rooms_do_not_get_the_message(connect, room):
    alice, _, _ = await join(connect, room, "alice")
    elsewhere, _, _ = await join(connect, f"{room}-other")

    await alice.send_json_to({"type": "message", "text": "hello"})

    await receive(alice)
    later = await announce(f"{room}-other")
    assert await receive(elsewhere) == later


async def test_a_resent_client_id_stores_nothing_new_and_answers_with_the_stored_message(connect, room):
    alice, _, _ = await join(connect, room, "alice")
    reader, _, _ = await join(connect, room)
    await alice.send_json_to({"type": "message", "text": "hello", "client_id": "c-1"})
    first = await receive(alice)
    await receive(reader)

    await alice.send_json_to({"type": "message", "text": "hello", "client_id": "c-1"})

    assert await receive(alice) == first
    assert await texts_in_database() == ["hello"]
    later = await announce(room)
    assert await receive(reader) == later


async def test_a_client_id_reused_in_another_room_is_an_invalid_message(connect, room):
    here, _, _ = await join(connect, room, "alice")
    there, _, _ = await join(connect, f"{room}-2", "alice")
    await here.send_json_to({"type": "message", "text": "hello", "client_id": "c-1"})
    await receive(here)

    await there.send_json_to({"type": "message", "text": "hello", "client_id": "c-1"})

    error = await receive(there)
    assert (error["type"], error["code"], error["client_id"]) == ("error", "invalid_message", "c-1")


async def test_an_anonymous_sender_gets_auth_required_and_keeps_reading(connect, room):
    reader, _, _ = await join(connect, room)
    alice, _, _ = await join(connect, room, "alice")
    await receive(reader)  # alice's arrival

    await reader.send_json_to({"type": "message", "text": "let me in", "client_id": "c-1"})

    assert await receive(reader) == {
        "type": "error",
        "code": "auth_required",
        "detail": "sign in to send messages",
        "client_id": "c-1",
    }
    await alice.send_json_to({"type": "message", "text": "hello"})
    assert (await receive(reader))["text"] == "hello"
    assert await texts_in_database() == ["hello"]


# Bad frames (each refusal's wording is tested in test_protocol.py; here, the socket's behaviour) ----

BAD_FRAMES = [
    pytest.param({"text_data": "{not json"}, "invalid_json", id="invalid-json"),
    pytest.param({"text_data": "[" * 20_000}, "invalid_json", id="too-deeply-nested"),
    pytest.param({"bytes_data": b'{"type": "message", "text": "hi"}'}, "invalid_message", id="binary"),
    pytest.param({"text_data": "[1, 2]"}, "invalid_message", id="not-an-object"),
    pytest.param({"text_data": '{"type": "typing"}'}, "invalid_message", id="unknown-type"),
    pytest.param({"text_data": '{"text": "hi"}'}, "invalid_message", id="no-type"),
    pytest.param({"text_data": '{"type": "message"}'}, "invalid_message", id="missing-text"),
    pytest.param({"text_data": '{"type": "message", "text": 5}'}, "invalid_message", id="non-string-text"),
    pytest.param({"text_data": '{"type": "message", "text": ""}'}, "invalid_message", id="empty-text"),
    pytest.param({"text_data": '{"type": "message", "text": "   "}'}, "invalid_message", id="blank-text"),
    pytest.param(
        {"text_data": '{"type": "message", "text": " \\u200b \\u200d\\ufeff"}'},
        "invalid_message",
        id="zero-width-only",
    ),
    pytest.param({"text_data": '{"type": "message", "text": "a\\u0000b"}'}, "invalid_message", id="nul"),
    pytest.param(
        {"text_data": json.dumps({"type": "message", "text": "a" * (MESSAGE_MAX_LENGTH + 1)})},
        "too_long",
        id="too-long",
    ),
    pytest.param(
        {"text_data": '{"type": "message", "text": "hi", "client_id": 7}'},
        "invalid_message",
        id="bad-client-id",
    ),
]


async def test_nothing_invalid_is_stored_or_broadcast(connect, room, settings):
    settings.CHAT_RATE_LIMIT_BURST = len(BAD_FRAMES) + 5
    alice, _, _ = await join(connect, room, "alice")
    reader, _, _ = await join(connect, room)

    for param in BAD_FRAMES:
        frame, code = param.values
        await alice.send_to(**frame)
        error = await receive(alice)
        assert (error["type"], error["code"], bool(error["detail"])) == ("error", code, True), param.id

    assert await texts_in_database() == []
    later = await announce(room)
    assert await receive(reader) == later
    await alice.send_json_to({"type": "message", "text": "still here"})
    assert (await receive(reader))["text"] == "still here"


async def test_a_message_of_exactly_2000_characters_is_accepted(connect, room):
    alice, _, _ = await join(connect, room, "alice")

    await alice.send_json_to({"type": "message", "text": "😀" * MESSAGE_MAX_LENGTH})

    assert len((await receive(alice))["text"]) == MESSAGE_MAX_LENGTH


# Floods -------------------------------------------------------------------------------------------


async def test_frames_past_the_burst_get_rate_limited_and_the_connection_stays_open(connect, room, settings):
    alice, _, _ = await join(connect, room, "alice")

    for _ in range(settings.CHAT_RATE_LIMIT_BURST + 2):
        await alice.send_to(text_data="{not json")
    codes = [(await receive(alice))["code"] for _ in range(settings.CHAT_RATE_LIMIT_BURST + 2)]

    # Frames over the limit are answered as they arrive, before the others are read.
    assert Counter(codes) == {"invalid_json": settings.CHAT_RATE_LIMIT_BURST, "rate_limited": 2}
    later = await announce(room)
    assert await receive(alice) == later


async def test_a_client_that_keeps_flooding_is_closed_with_1008(connect, room, settings):
    alice, _, _ = await join(connect, room, "alice")
    allowed = settings.CHAT_RATE_LIMIT_BURST + settings.CHAT_FLOOD_STRIKES

    for _ in range(allowed + 20):
        await alice.send_to(text_data="{not json")

    codes = []
    while (output := await alice.receive_output(timeout=FRAME_TIMEOUT))["type"] == "websocket.send":
        codes.append(json.loads(output["text"])["code"])
    assert output == close_event(CLOSE_POLICY_VIOLATION)
    assert "rate_limited" in codes
    assert len(codes) <= allowed + 2  # a token or two may have refilled meanwhile


async def test_a_connection_closed_for_flooding_is_sent_nothing_more(connect, room, settings):
    alice, _, _ = await join(connect, room, "alice")
    bob, _, _ = await join(connect, room, "bob")
    await receive(alice)  # bob's arrival
    for _ in range(settings.CHAT_RATE_LIMIT_BURST + settings.CHAT_FLOOD_STRIKES + 5):
        await alice.send_to(text_data="{not json")
    while (await alice.receive_output(timeout=FRAME_TIMEOUT))["type"] != "websocket.close":
        pass

    await bob.send_json_to({"type": "message", "text": "anyone?"})

    assert (await receive(bob))["text"] == "anyone?"


async def test_a_closed_consumer_relays_no_more_broadcasts(room):
    consumer = ChatConsumer()
    consumer.closed = True
    sent = []

    async def send(**frame):
        sent.append(frame)

    consumer.delivery = GaplessDelivery(room, send)
    [posted] = await stored(room, 1)

    await consumer.chat_message(message_event(posted.frame["id"], posted.prev_id, posted.frame))
    await consumer.chat_presence(presence_event(2**52, ["alice"]))

    assert sent == []


# Presence -----------------------------------------------------------------------------------------


async def test_presence_is_sent_to_the_room_when_someone_joins_and_leaves(connect, room):
    alice, _, _ = await join(connect, room, "alice")

    bob, _, bob_sees = await join(connect, room, "bob")
    assert bob_sees == {"type": "presence", "users": ["alice", "bob"]}
    assert await receive(alice) == {"type": "presence", "users": ["alice", "bob"]}

    await bob.disconnect()
    assert await receive(alice) == {"type": "presence", "users": ["alice"]}


async def test_anonymous_readers_are_not_listed_and_send_no_presence(connect, room):
    alice, _, _ = await join(connect, room, "alice")

    _, _, reader_sees = await join(connect, room)

    assert reader_sees == {"type": "presence", "users": ["alice"]}
    later = await announce(room)
    assert await receive(alice) == later


async def test_a_second_tab_of_the_same_user_changes_nothing(connect, room):
    alice, _, _ = await join(connect, room, "alice")

    second_tab, _, _ = await join(connect, room, "alice")
    await second_tab.disconnect()

    later = await announce(room)
    assert await receive(alice) == later


async def test_a_presence_list_older_than_the_one_shown_is_dropped(connect, room):
    alice, _, _ = await join(connect, room, "alice")
    layer = get_channel_layer()

    await layer.group_send(room_group(room), presence_event(1, ["ghost"]))
    await layer.group_send(room_group(room), presence_event(2**52, ["alice", "newer"]))

    # The ghost list, sent first, was dropped: the next frame is the newer one.
    assert await receive(alice) == {"type": "presence", "users": ["alice", "newer"]}


# Delivery order -----------------------------------------------------------------------------------


async def test_a_broadcast_that_overtakes_an_earlier_one_is_delivered_in_order_without_duplicates(
    connect, room
):
    alice, _, _ = await join(connect, room, "alice")
    first, second = await stored(room, 2, username="bob")
    layer = get_channel_layer()

    # As when two processes store one message each and the second one's broadcast arrives first.
    await layer.group_send(room_group(room), message_event(second.frame["id"], second.prev_id, second.frame))
    await layer.group_send(room_group(room), message_event(first.frame["id"], first.prev_id, first.frame))

    assert [await receive(alice), await receive(alice)] == [first.frame, second.frame]
    later = await announce(room)
    assert await receive(alice) == later


async def test_a_message_already_in_the_history_is_not_sent_again(connect, room):
    [posted] = await stored(room, 1)
    alice, history, _ = await join(connect, room, "alice")

    await get_channel_layer().group_send(
        room_group(room), message_event(posted.frame["id"], posted.prev_id, posted.frame)
    )

    assert history["messages"] == [posted.frame]
    later = await announce(room)
    assert await receive(alice) == later


# The room's feed: one subscription per room and process ------------------------------------------


@pytest.mark.parametrize("layer", ["RedisPubSubChannelLayer"], indirect=True)
async def test_a_rooms_readers_make_one_redis_subscription_per_process_not_one_each(connect, room, settings):
    from redis.asyncio import Redis

    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    readers = [(await join(connect, room))[0] for _ in range(5)]

    async with Redis.from_url(settings.REDIS_URL) as redis:
        # The room's group, and the channel of this process's feed; none for the readers themselves.
        assert len(await redis.pubsub_channels(f"{prefix}*")) == 2
        for reader in readers:
            await reader.disconnect()
        assert await redis.pubsub_channels(f"{prefix}*") == []

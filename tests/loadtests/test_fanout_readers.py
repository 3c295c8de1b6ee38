"""The fan-out benchmark's readers: how they share the sockets and read a message's tag (no servers)."""

import json

from loadtests.fanout_readers import path_of, spread, tag_of


def test_spread_gives_each_process_a_share_that_differs_by_at_most_one():
    assert spread(10, 4) == [3, 3, 2, 2]


def test_spread_starts_no_more_processes_than_readers():
    assert spread(2, 4) == [1, 1]


def test_the_chat_and_floor_frames_carry_the_tag_as_client_id():
    assert tag_of(json.dumps({"type": "message", "text": "hello", "client_id": "chat-1"})) == "chat-1"


def test_the_plain_consumers_frame_carries_the_tag_as_text():
    assert tag_of(json.dumps({"text": "plain-1"})) == "plain-1"


def test_a_frame_without_a_tag_has_none():
    assert tag_of(json.dumps({"type": "presence", "count": 3})) is None
    assert tag_of(json.dumps(["not", "a", "frame"])) is None


def test_the_floor_has_one_path_for_every_room_and_its_own_for_senders():
    assert path_of("floor", "any") == "/ws/floor/"
    assert path_of("floor", "any", sender=True) == "/ws/floor/?role=sender"
    assert path_of("plain", "room-1") == "/ws/plain/room-1/"

"""The one frame reader of every socket (myproject/realtime/frames.py): the same limits for all."""

import json

import pytest

from myproject.realtime.frames import (
    CLOSE_INVALID_DATA,
    CLOSE_TOO_BIG,
    INVALID_FRAME,
    INVALID_JSON,
    MAX_DEPTH,
    MAX_FRAME_BYTES,
    FrameRefused,
    depth,
    read_json,
    read_text,
)


def text_event(text: str) -> dict:
    return {"type": "websocket.receive", "text": text, "bytes": None}


def refused(event: dict) -> FrameRefused:
    with pytest.raises(FrameRefused) as caught:
        read_json(event)
    return caught.value


def test_a_json_object_with_a_type_is_read():
    frame = {"type": "race", "n": [1, {"a": 2}]}

    assert read_json(text_event(json.dumps(frame))) == frame


@pytest.mark.parametrize("nesting", [5_000, 100, MAX_DEPTH])
def test_json_nested_deeper_than_the_limit_is_invalid_json_and_keeps_the_socket_open(nesting):
    error = refused(text_event('{"type": "x", "v": ' + "[" * nesting + "]" * nesting + "}"))

    assert (error.code, error.close_code) == (INVALID_JSON, None)


def test_json_nested_to_the_limit_is_read():
    nesting = MAX_DEPTH - 1  # the object around it is one level
    assert read_json(text_event('{"type": "x", "v": ' + "[" * nesting + "]" * nesting + "}"))["type"] == "x"


def test_a_frame_over_the_size_limit_closes_with_1009():
    error = refused(text_event(json.dumps({"type": "x", "v": "a" * MAX_FRAME_BYTES})))

    assert error.close_code == CLOSE_TOO_BIG


def test_the_size_limit_counts_utf8_bytes_not_characters():
    at_limit = "é" * (MAX_FRAME_BYTES // 2)  # 2 bytes each

    assert read_text(text_event(at_limit)) == at_limit
    with pytest.raises(FrameRefused) as caught:
        read_text(text_event(at_limit + "é"))
    assert caught.value.close_code == CLOSE_TOO_BIG


def test_a_binary_frame_over_the_size_limit_closes_with_1009():
    error = refused({"type": "websocket.receive", "text": None, "bytes": b"x" * (MAX_FRAME_BYTES + 1)})

    assert error.close_code == CLOSE_TOO_BIG


def test_text_that_is_not_utf8_closes_with_1007():
    error = refused(text_event('{"type": "message", "text": "\ud800"}'))

    assert error.close_code == CLOSE_INVALID_DATA


def test_a_binary_frame_is_refused_and_keeps_the_socket_open():
    error = refused({"type": "websocket.receive", "text": None, "bytes": b"{}"})

    assert (error.code, error.close_code) == (INVALID_FRAME, None)


@pytest.mark.parametrize("text", ["[]", "42", "null", '"race"', '{"n": 1}', '{"type": 5}'])
def test_anything_but_an_object_with_a_string_type_is_an_invalid_frame(text):
    assert refused(text_event(text)).code == INVALID_FRAME


@pytest.mark.parametrize("text", ["{", "", "not json", "[" * 5_000])
def test_text_that_is_not_json_is_invalid_json(text):
    assert refused(text_event(text)).code == INVALID_JSON


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 0), ([], 1), ({"a": [1, [2]]}, 3), ([[], [[[]]]], 4)], ids=repr
)
def test_depth_counts_the_deepest_nesting(value, expected):
    assert depth(value) == expected

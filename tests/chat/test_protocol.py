import json

import pytest

from chat.models import CLIENT_ID_MAX_LENGTH, MESSAGE_MAX_LENGTH
from chat.protocol import (
    INVALID_JSON,
    INVALID_MESSAGE,
    TOO_LONG,
    FrameError,
    client_id_of,
    decode_frame,
    error_frame,
    read_message,
)


def refusal(text_data: str | None) -> FrameError:
    with pytest.raises(FrameError) as caught:
        read_message(decode_frame(text_data))
    return caught.value


def test_a_valid_message_gives_its_text_and_client_id():
    message = read_message(decode_frame(json.dumps({"type": "message", "text": "hi", "client_id": "c-1"})))

    assert (message.text, message.client_id) == ("hi", "c-1")


def test_client_id_is_optional():
    assert read_message(decode_frame('{"type": "message", "text": "hi"}')).client_id is None


@pytest.mark.parametrize("text_data", ["{", "not json", "", '{"type": "message", "text": "hi"'])
def test_text_that_is_not_json_is_invalid_json(text_data):
    assert refusal(text_data).code == INVALID_JSON


def test_json_nested_deeper_than_python_can_parse_is_invalid_json():
    assert refusal("[" * 5_000 + "]" * 5_000).code == INVALID_JSON


def test_a_binary_frame_is_an_invalid_message():
    assert refusal(None).code == INVALID_MESSAGE


@pytest.mark.parametrize("text_data", ["[]", "42", '"message"', "null", "true"])
def test_json_that_is_not_an_object_is_an_invalid_message(text_data):
    assert refusal(text_data).code == INVALID_MESSAGE


@pytest.mark.parametrize("frame_type", ["typing", "MESSAGE", None, 1, ["message"]])
def test_an_unknown_or_missing_type_is_an_invalid_message(frame_type):
    frame = {"text": "hi"} if frame_type is None else {"type": frame_type, "text": "hi"}

    assert refusal(json.dumps(frame)).code == INVALID_MESSAGE


def test_a_long_unknown_type_is_not_echoed_in_full():
    error = refusal(json.dumps({"type": "x" * 10_000, "text": "hi"}))

    assert len(error.detail) < 100


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message"},
        {"type": "message", "text": None},
        {"type": "message", "text": 42},
        {"type": "message", "text": ["hi"]},
        {"type": "message", "text": {"en": "hi"}},
        {"type": "message", "text": ""},
        {"type": "message", "text": " \n\t "},
    ],
    ids=["missing", "null", "number", "list", "object", "empty", "blank"],
)
def test_missing_non_string_or_empty_text_is_an_invalid_message(frame):
    assert refusal(json.dumps(frame)).code == INVALID_MESSAGE


def test_text_at_the_limit_is_accepted():
    text = "é" * MESSAGE_MAX_LENGTH

    assert read_message(decode_frame(json.dumps({"type": "message", "text": text}))).text == text


def test_text_over_the_limit_is_too_long():
    error = refusal(json.dumps({"type": "message", "text": "a" * (MESSAGE_MAX_LENGTH + 1)}))

    assert error.code == TOO_LONG
    assert f"the limit is {MESSAGE_MAX_LENGTH:,}" in error.detail


def test_the_limit_counts_characters_not_bytes_or_utf16_units():
    emoji = "😀" * MESSAGE_MAX_LENGTH  # 4 bytes each in UTF-8, 2 units each in UTF-16

    assert read_message(decode_frame(json.dumps({"type": "message", "text": emoji}))).text == emoji


@pytest.mark.parametrize("text", ["nul\x00byte", "lone \ud800 surrogate"], ids=["nul", "lone-surrogate"])
def test_text_no_database_can_store_is_an_invalid_message(text):
    assert refusal(json.dumps({"type": "message", "text": text})).code == INVALID_MESSAGE


@pytest.mark.parametrize("client_id", [42, "", "x" * (CLIENT_ID_MAX_LENGTH + 1), ["a"], "a\x00b"], ids=repr)
def test_a_client_id_that_is_not_a_short_string_is_an_invalid_message(client_id):
    assert (
        refusal(json.dumps({"type": "message", "text": "hi", "client_id": client_id})).code == INVALID_MESSAGE
    )


def test_a_refused_message_keeps_its_client_id_for_the_error_frame():
    error = refusal(json.dumps({"type": "message", "text": "", "client_id": "c-9"}))

    assert error_frame(error) == {
        "type": "error",
        "code": INVALID_MESSAGE,
        "detail": error.detail,
        "client_id": "c-9",
    }


def test_an_error_frame_without_client_id_has_the_contract_fields_only():
    assert error_frame(FrameError(INVALID_JSON, "bad")) == {
        "type": "error",
        "code": INVALID_JSON,
        "detail": "bad",
    }


@pytest.mark.parametrize(
    ("text_data", "expected"),
    [('{"type": "message", "client_id": "c-1"}', "c-1"), ("{", None), (None, None), ('{"type": "x"}', None)],
)
def test_client_id_of_reads_a_usable_client_id_or_none(text_data, expected):
    assert client_id_of(text_data) == expected


@pytest.mark.parametrize(
    "text",
    [
        "\u200b",  # zero-width space
        " \u200b\u200c\u200d\ufeff ",  # zero-width (non-)joiners, BOM, spaces
        "\u2060\u00a0\u3000",  # word joiner, no-break and ideographic spaces
        "\u202e\u2066\u2069",  # bidi controls and nothing else
        "\u3164\u115f",  # Hangul fillers
        "\u2800",  # the blank Braille pattern
    ],
    ids=["zwsp", "zero-widths", "joiner-and-spaces", "bidi-only", "hangul-fillers", "blank-braille"],
)
def test_text_with_no_visible_character_is_an_invalid_message(text):
    error = refusal(json.dumps({"type": "message", "text": text}))

    assert error.code == INVALID_MESSAGE
    assert "no visible character" in error.detail


@pytest.mark.parametrize("text", ["a\u200b", "👍", "\u202eabc", "سلام", "\u0301", "·"])
def test_text_with_one_visible_character_is_accepted(text):
    assert read_message(decode_frame(json.dumps({"type": "message", "text": text}))).text == text

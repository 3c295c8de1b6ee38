"""The frames of /ws/chat/<room>/ (docs/protocol.md): reading what a client sends, and the shapes
of what the server answers. Pure functions, no I/O, so every bad input is easy to test. The
`?after=` rule and the close codes, shared with /ws/notifications/, are in the myproject/realtime/ package."""

import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chat.models import CLIENT_ID_MAX_LENGTH, MESSAGE_MAX_LENGTH
from myproject.realtime import frames
from myproject.realtime.frames import FrameRefused, read_json

# Error codes of the contract.
INVALID_JSON = "invalid_json"
INVALID_MESSAGE = "invalid_message"
TOO_LONG = "too_long"
RATE_LIMITED = "rate_limited"
AUTH_REQUIRED = "auth_required"

# How much of a client's bad value an error detail repeats: enough to recognise it, never a
# whole flood echoed back.
ECHO_LIMIT = 40


class FrameError(Exception):
    """A client frame the server refuses; the connection stays open and gets an error frame."""

    def __init__(self, code: str, detail: str, client_id: str | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.client_id = client_id


@dataclass(frozen=True)
class ClientMessage:
    text: str
    client_id: str | None


def decode_frame(text_data: str | None) -> dict[str, Any]:
    """The JSON object of a client frame whose `type` is one the server knows ("message"), read by
    the project's one frame reader (myproject/realtime/frames.py)."""
    try:
        frame = read_json({"type": "websocket.receive", "text": text_data, "bytes": None})
    except FrameRefused as refused:
        raise refusal_of(refused) from None
    return known_type(frame)


def refusal_of(refused: FrameRefused) -> FrameError:
    """The chat's error for a frame the frame reader refused: what the reader calls
    `invalid_frame` (binary, not an object, no type), the chat's contract calls `invalid_message`."""
    return FrameError(
        INVALID_JSON if refused.code == frames.INVALID_JSON else INVALID_MESSAGE, refused.detail
    )


def known_type(frame: dict[str, Any]) -> dict[str, Any]:
    if frame.get("type") != "message":
        shown = _echo(frame.get("type"))
        raise FrameError(INVALID_MESSAGE, f'unknown frame type {shown}; the only one is "message"')
    return frame


def read_client_frame(frame: dict[str, Any], *, signed_in: bool) -> ClientMessage:
    """The message a frame (a JSON object, from the frame reader) sends, or the FrameError that
    answers it: not a known type, then not signed in, then outside the limits."""
    known_type(frame)
    if not signed_in:
        raise FrameError(AUTH_REQUIRED, "sign in to send messages", _usable_client_id(frame))
    return read_message(frame)


def read_message(frame: dict[str, Any]) -> ClientMessage:
    """The text and client_id of a "message" frame, checked against the contract's limits."""
    client_id = read_client_id(frame)
    text = frame.get("text")
    if not isinstance(text, str):
        raise FrameError(INVALID_MESSAGE, '"text" must be a string', client_id)
    if not any(map(visible, text)):
        raise FrameError(INVALID_MESSAGE, '"text" is empty: it has no visible character', client_id)
    if len(text) > MESSAGE_MAX_LENGTH:
        raise FrameError(
            TOO_LONG, f'"text" has {len(text):,} characters; the limit is {MESSAGE_MAX_LENGTH:,}', client_id
        )
    if not _storable(text):
        raise FrameError(INVALID_MESSAGE, '"text" contains a NUL character or a lone surrogate', client_id)
    return ClientMessage(text=text, client_id=client_id)


def read_client_id(frame: dict[str, Any]) -> str | None:
    value = frame.get("client_id")
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= CLIENT_ID_MAX_LENGTH or not _storable(value):
        raise FrameError(
            INVALID_MESSAGE, f'"client_id" must be a string of 1-{CLIENT_ID_MAX_LENGTH} characters'
        )
    return value


def client_id_of(text_data: str | None) -> str | None:
    """The client_id of a frame being refused, when it has a usable one, so that the error frame
    can name the send it refuses."""
    try:
        return _usable_client_id(decode_frame(text_data))
    except FrameError:
        return None


def _usable_client_id(frame: dict[str, Any]) -> str | None:
    try:
        return read_client_id(frame)
    except FrameError:
        return None


# Characters that are letters or symbols to Unicode but draw nothing: Hangul fillers, the blank
# Braille pattern. With the categories below, what a "blank" message is made of in practice.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Controls, format characters (zero-width space and joiners, bidi controls, the BOM), separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def visible(character: str) -> bool:
    """Whether a character draws something: a message needs one, or it is blank however long."""
    return not (
        character.isspace()
        or unicodedata.category(character) in _INVISIBLE_CATEGORIES
        or character in _BLANK_LETTERS
    )


def _storable(value: str) -> bool:
    # JSON can carry both, no database column can: PostgreSQL refuses NUL in text, and a lone
    # surrogate ("\ud800") cannot be encoded as UTF-8 at all.
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _echo(value: Any) -> str:
    shown = json.dumps(value)
    return shown if len(shown) <= ECHO_LIMIT else shown[: ECHO_LIMIT - 1] + "…"


# Server -> client ---------------------------------------------------------------------------------


def error_frame(error: FrameError) -> dict[str, Any]:
    frame = {"type": "error", "code": error.code, "detail": error.detail}
    if error.client_id is not None:
        # Not in the contract's minimum: lets a page mark which of its pending sends failed.
        frame["client_id"] = error.client_id
    return frame


def message_frame(
    *, id: int, room: str, user: str, text: str, created: datetime, client_id: str | None
) -> dict[str, Any]:
    return {
        "type": "message",
        "id": id,
        "room": room,
        "user": user,
        "text": text,
        "created": created.isoformat(),
        "client_id": client_id,
    }


def history_frame(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "history", "messages": messages}


def presence_frame(users: list[str]) -> dict[str, Any]:
    return {"type": "presence", "users": users}


# Consumer -> consumers, through the channel layer ---------------------------------------------------


def room_group(room: str) -> str:
    return f"chat.{room}"


def message_event(message_id: int, prev_id: int | None, frame: dict[str, Any]) -> dict[str, Any]:
    # Serialised once by the sender instead of once per receiving consumer: in a room of N clients
    # that is N - 1 json.dumps calls saved per message.
    return {"type": "chat.message", "id": message_id, "prev_id": prev_id, "frame": json.dumps(frame)}


def presence_event(version: int, users: list[str]) -> dict[str, Any]:
    return {"type": "chat.presence", "version": version, "users": users}

"""The one reader every client frame of every socket goes through: the chat, the notifications, the
race and the wire echo. The same limits everywhere, checked before any consumer looks at a frame:

- a text frame, not a binary one;
- at most MAX_FRAME_BYTES of UTF-8 (a server may be started with a larger limit, or none);
- valid UTF-8: text a server decoded always is, but an ASGI app may be handed a lone surrogate
  ("\\ud800"), which no database column and no JSON encoder downstream can take;
- for the JSON sockets: a JSON object with a string "type", nested at most MAX_DEPTH deep.

The depth limit is not about memory: Python's json module parses recursively, so "[" * 5000 raises
RecursionError, not ValueError, and any code that walks a deep value recursively fails the same way.
No frame of the protocol nests deeper than 3 levels.
"""

import json
from collections.abc import Mapping
from typing import Any

# The default of deploy/start-asgi.sh's --ws-max-size (WS_MAX_SIZE): the largest chat message, 2,000
# characters each escaped as a 12-byte surrogate pair ("\ud83d\ude00"), fits with room to spare.
MAX_FRAME_BYTES = 32 * 1024
MAX_DEPTH = 16

# Close codes of RFC 6455, section 7.4.1, for frames no socket of the project reads.
CLOSE_INVALID_DATA = 1007  # "data within a message that was not consistent with the type"
CLOSE_TOO_BIG = 1009

# Error codes of the error frame a bad frame gets; each socket may name them its own way.
INVALID_JSON = "invalid_json"
INVALID_FRAME = "invalid_frame"


class FrameRefused(Exception):
    """A frame the reader refuses. With `close_code`, the socket closes with it (the frame breaks
    the transport's rules); without, the socket answers with an error frame and stays open."""

    def __init__(self, code: str, detail: str, close_code: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.close_code = close_code


def read_text(event: Mapping[str, object]) -> str:
    """The text of a `websocket.receive` event, within the limits, or FrameRefused."""
    text = event.get("text")
    if not isinstance(text, str):
        data = event.get("bytes")
        if isinstance(data, bytes) and len(data) > MAX_FRAME_BYTES:
            raise FrameRefused(
                INVALID_FRAME, f"a frame may hold at most {MAX_FRAME_BYTES} bytes", CLOSE_TOO_BIG
            )
        raise FrameRefused(INVALID_FRAME, "binary frames are not accepted; send text frames")
    # Python counts characters; the limit is in bytes, which only a non-ASCII or long text needs
    # encoding to count (one encode also finds a lone surrogate).
    if len(text) > MAX_FRAME_BYTES // 4 or not text.isascii():
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise FrameRefused(INVALID_FRAME, "the frame is not valid UTF-8", CLOSE_INVALID_DATA) from None
        if size > MAX_FRAME_BYTES:
            raise FrameRefused(
                INVALID_FRAME, f"a frame may hold at most {MAX_FRAME_BYTES} bytes", CLOSE_TOO_BIG
            )
    return text


def read_json(event: Mapping[str, object]) -> dict[str, Any]:
    """The JSON object of a `websocket.receive` event, with a string "type", or FrameRefused."""
    text = read_text(event)
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack allows
        raise FrameRefused(INVALID_JSON, "the frame is not valid JSON") from None
    if depth(frame) > MAX_DEPTH:
        raise FrameRefused(INVALID_JSON, f"JSON nested deeper than {MAX_DEPTH} levels is not accepted")
    if not isinstance(frame, dict):
        raise FrameRefused(INVALID_FRAME, "a frame must be a JSON object")
    if not isinstance(frame.get("type"), str):
        raise FrameRefused(INVALID_FRAME, 'a frame must have a "type" string')
    return frame


def depth(value: Any) -> int:
    """How deeply a parsed JSON value nests (a scalar is 0, [] is 1), without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, level + 1)
        pending.extend((child, level + 1) for child in item)
    return deepest

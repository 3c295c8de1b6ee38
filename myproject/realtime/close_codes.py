"""The close codes the project's sockets send (RFC 6455, section 7.4.1), named for what they tell
the client to do. docs/protocol.md lists them for clients."""

from asgiref.typing import WebSocketCloseEvent

# The client broke a rule of the protocol (it kept flooding after `rate_limited` answers): do not
# come straight back.
CLOSE_POLICY_VIOLATION = 1008
# The server failed (the database): the client may reconnect and resume with ?after=.
CLOSE_SERVER_ERROR = 1011
# The channel layer (Redis) went away, so live events stopped: reconnect with backoff and resume
# with ?after=, which reads what was missed from the database.
CLOSE_TRY_AGAIN_LATER = 1013


def close_event(code: int) -> WebSocketCloseEvent:
    """The ASGI message that closes a socket with `code`; before accept() it refuses the handshake
    (HTTP 403), whatever the code."""
    return {"type": "websocket.close", "code": code, "reason": ""}

"""The Origin check of every WebSocket handshake."""

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, WebSocketScope
from channels.security.websocket import AllowedHostsOriginValidator

from myproject.realtime.refusal import refuse_handshake


def allowed_origins_only(
    application: Any,
) -> Callable[[WebSocketScope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]:
    """Channels' AllowedHostsOriginValidator, refusing with `refuse_handshake`.

    Browsers send cookies with a WebSocket handshake from any site, so the Origin check is what
    stops another site from opening a socket with the visitor's session. Channels' own validator
    refuses through a WebsocketDenier, a consumer that first makes a channel: while Redis is down
    that fails and the refusal becomes a 500. And an Origin that urlparse cannot read ("http://[")
    raises instead of being refused.
    """
    validator = AllowedHostsOriginValidator(application)

    async def check_origin(
        scope: WebSocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
        try:
            allowed = validator.valid_origin(urlparse(origins[-1].decode("latin-1")) if origins else None)
        except ValueError:
            allowed = False
        if allowed:
            await application(scope, receive, send)
        else:
            await refuse_handshake(scope, receive, send)

    return check_origin

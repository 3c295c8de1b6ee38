"""The Origin check of every WebSocket handshake: the rule of Django's CSRF check, applied to the
handshake.

Browsers send cookies with a WebSocket handshake from any site, and the Same-Origin Policy does not
apply to WebSockets, so the Origin check is what stops another site from opening a socket with the
visitor's session. "Another site" means what it means for a form POST: another scheme, host or
port. Channels' AllowedHostsOriginValidator compares host names only, so `http://127.0.0.1:9999`
(any other app on the same machine) or `https://127.0.0.1` passed it while the CSRF check refused
them. Here the answer is Django's own: `CsrfViewMiddleware._origin_verified`, on the request Django
would build for the handshake. An Origin is allowed when it is the handshake's own origin (its
scheme, and its Host as ALLOWED_HOSTS validates it), or one of CSRF_TRUSTED_ORIGINS.

One addition: when the two stacks run side by side (`make run`: WSGI_STACK_PORT and
ASGI_STACK_PORT set), a page Gunicorn served opens its socket on the ASGI stack's port, and the race
page opens its driver's socket on a port of its own (RACE_DRIVER_PORT), so both stacks' origins
(same scheme and host, their ports) are the project's own too.
"""

import io
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, WebSocketScope
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.middleware.csrf import CsrfViewMiddleware

from myproject.realtime.refusal import refuse_handshake

# What a handshake's scheme is for the origin it must match.
HTTP_SCHEMES = {"ws": "http", "wss": "https"}


def handshake_request(scope: WebSocketScope) -> HttpRequest:
    """The request Django would build from this handshake's scope (META from its headers, scheme,
    server), as its ASGI handler builds one for a GET."""
    http_scope = {
        **scope,
        "type": "http",
        "method": "GET",
        "scheme": HTTP_SCHEMES.get(scope.get("scheme", ""), "http"),
        # The check needs no query string, and Django would refuse one that is not UTF-8.
        "query_string": b"",
    }
    return ASGIRequest(http_scope, io.BytesIO())


def origin_allowed(scope: WebSocketScope) -> bool:
    """Whether the handshake's Origin is one Django's CSRF check would accept for a POST."""
    request = handshake_request(scope)
    if "HTTP_ORIGIN" not in request.META:
        return False  # every browser sends one with a WebSocket handshake
    # A private method of Django's, and the one place the CSRF check's Origin rule lives; the
    # project's tests pin what it accepts (tests/myproject/test_origin.py).
    if CsrfViewMiddleware(lambda request: None)._origin_verified(request):  # type: ignore[arg-type,attr-defined]
        return True
    return request.META["HTTP_ORIGIN"] in side_by_side_origins(request)


def side_by_side_origins(request: HttpRequest) -> set[str]:
    if not (settings.WSGI_STACK_PORT and settings.ASGI_STACK_PORT):
        return set()
    try:
        domain, _ = split_domain_port(request.get_host())
    except DisallowedHost:
        return set()
    ports = (settings.WSGI_STACK_PORT, settings.ASGI_STACK_PORT)
    return {f"{request.scheme}://{domain}:{port}" for port in ports}


def allowed_origins_only(
    application: Any,
) -> Callable[[WebSocketScope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]:
    """`application`, behind the Origin check; a refused handshake gets `refuse_handshake`'s 403.

    Not Channels' OriginValidator: it refuses through a WebsocketDenier, a consumer that first makes
    a channel, so while Redis is down the refusal became a 500.
    """

    async def check_origin(
        scope: WebSocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if origin_allowed(scope):
            await application(scope, receive, send)
        else:
            await refuse_handshake(scope, receive, send)

    return check_origin

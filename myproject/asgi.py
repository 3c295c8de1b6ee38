"""The project as an ASGI application: `uvicorn myproject.asgi:application` (or Daphne, Granian,
Gunicorn's asgi worker, Gunicorn + UvicornWorker).

ASGI is asynchronous and not only HTTP: one event loop per process serves many connections at once,
and the same application also answers WebSockets. Channels' ProtocolTypeRouter sends each
connection to the right handler by its scope type.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
# This entry point always means ASGI (set outright, like wsgi.py's "wsgi").
os.environ["SERVER_INTERFACE"] = "asgi"

from django.core.asgi import get_asgi_application

# get_asgi_application() runs django.setup(): it must come before importing anything that touches
# models (the consumers, the auth middleware), or that import fails with AppRegistryNotReady.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from metrics.websockets import CountOpenWebSockets  # noqa: E402
from myproject.asgi_handler import asgi_http_application  # noqa: E402
from myproject.checks import warn_if_channel_layer_is_process_local  # noqa: E402
from myproject.realtime.origin import allowed_origins_only  # noqa: E402
from myproject.routing import websocket_urlpatterns  # noqa: E402
from myproject.wire_recorder import ASGIWireRecorder  # noqa: E402

# The recorder behind the /demo/wire/ page sits first inside each protocol, so that it sees the
# scope and the events as the server exchanges them. It records that page's capture request and
# echo socket only and passes everything else straight through.
application = ProtocolTypeRouter(
    {
        # Django's handler, or the project's async-native one (DJANGO_ASGI_STACK, docs/asgi-tax.md).
        "http": ASGIWireRecorder(asgi_http_application(django_asgi_app)),
        # Browsers send cookies with a WebSocket handshake from any site, so the Origin check is
        # what stops another site from opening a socket with the visitor's session.
        # Outermost, the count of open sockets behind /metrics (metrics/websockets.py).
        "websocket": CountOpenWebSockets(
            ASGIWireRecorder(
                allowed_origins_only(
                    # Channels' stubs want their own URLPattern subclass, which Django's re_path
                    # never returns.
                    AuthMiddlewareStack(URLRouter(websocket_urlpatterns))  # type: ignore[arg-type]
                )
            )
        ),
    }
)

warn_if_channel_layer_is_process_local("asgi")

"""
ASGI config for myproject: `uvicorn myproject.asgi:application` (or Daphne, Granian, Gunicorn's asgi
worker, Gunicorn + UvicornWorker).

It exposes the ASGI callable as a module-level variable named ``application``: Channels'
ProtocolTypeRouter, which sends each connection by its scope type, HTTP to Django's handler and
WebSockets to the chat and report consumers. ASGI is asynchronous and not only HTTP: one event loop
per process serves many connections at once, sockets that stay open for hours included.

For more on this file: https://docs.djangoproject.com/en/5.2/howto/deployment/asgi/ and Channels'
tutorial, https://channels.readthedocs.io/en/latest/tutorial/part_2.html
"""

import os

from asgiref.typing import ASGI3Application
from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
# The project's: this entry point always means ASGI (settings.py reads it), whatever a parent
# process left in the environment; wsgi.py sets "wsgi" the same way.
os.environ["SERVER_INTERFACE"] = "asgi"

# Initialize Django's app registry early, before importing code that may import ORM models (the
# consumers, Channels' auth middleware): that import would fail with AppRegistryNotReady.
if settings.ASGI_STACK == "stock":
    django_asgi_app = get_asgi_application()
else:
    # The project's opt-in, DJANGO_ASGI_STACK=async-native: its tuned handler, built in place of
    # Django's so the middleware is loaded once (async_native/, docs/asgi-tax.md).
    from async_native import get_asgi_application as get_async_native_application

    django_asgi_app = get_async_native_application()

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter

from myproject.realtime.origin import allowed_origins_only
from myproject.routing import websocket_urlpatterns

application: ASGI3Application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Browsers send cookies with a WebSocket handshake from any site: the origin check (Django's
        # CSRF origin rule, scheme, host and port; myproject/realtime/origin.py) stops another site
        # from opening a socket with the visitor's session.
        "websocket": allowed_origins_only(
            # Channels' stubs want their own URLPattern subclass, which Django's re_path never returns.
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))  # type: ignore[arg-type]
        ),
    }
)

# The project's wrappers, each for one reason -------------------------------------------------------
from metrics.websockets import CountOpenWebSockets  # noqa: E402
from myproject.checks import warn_if_channel_layer_is_process_local  # noqa: E402
from myproject.realtime.refusal import WebSocketsOff  # noqa: E402
from myproject.wire.recorders import ASGIWireRecorder  # noqa: E402

# On a server that cannot bound what one client's socket makes it hold, no socket at all
# (DJANGO_WEBSOCKETS=0, which deploy/start-daphne.sh and deploy/start-gunicorn-asgi.sh set).
if not settings.SERVE_WEBSOCKETS:
    application = WebSocketsOff(application)
# Counts the open WebSockets that /metrics reports, the signal that scales this stack
# (metrics/websockets.py); HTTP passes straight through.
application = CountOpenWebSockets(application)
# Outermost, so that it sees the scope and events as the server exchanges them: the recorder behind
# the /demo/wire/ page. It records that page's request and socket only, passing the rest through.
application = ASGIWireRecorder(application)
# A process without Redis cannot reach the other stack's processes: it says so as it starts.
warn_if_channel_layer_is_process_local("asgi")

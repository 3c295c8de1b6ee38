"""Every WebSocket URL of the project, gathered from the apps (the WebSocket twin of urls.py)."""

from django.conf import settings
from django.urls import re_path

from chat.routing import websocket_urlpatterns as chat_websocket_urlpatterns
from demo.routing import websocket_urlpatterns as demo_websocket_urlpatterns
from myproject.realtime.refusal import refuse_handshake
from reports.routing import websocket_urlpatterns as reports_websocket_urlpatterns

websocket_urlpatterns = [
    *chat_websocket_urlpatterns,
    *reports_websocket_urlpatterns,
    # The race's driver and the wire page's echo, only where the demo is on (DJANGO_DEMO).
    *(demo_websocket_urlpatterns if settings.DEMO else []),
    # Last, and matching every path: a handshake no app routes is refused with HTTP 403. Without
    # it Channels' URLRouter raises "No route found", which the server answers with a 500 and a
    # traceback in its error log. (django-stubs types re_path()'s view as a Django view.)
    re_path(r"", refuse_handshake),  # type: ignore[arg-type]
]

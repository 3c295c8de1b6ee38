"""The chat's WebSocket URL (the ASGI twin of chat/urls.py)."""

from channels.security.websocket import WebsocketDenier
from django.urls import re_path

from chat.consumers import ChatConsumer
from chat.models import ROOM_NAME_PATTERN

websocket_urlpatterns = [
    # django-stubs types re_path()'s view as a Django view; Channels' URLRouter routes ASGI apps.
    re_path(rf"^ws/chat/(?P<room>{ROOM_NAME_PATTERN})/$", ChatConsumer.as_asgi()),  # type: ignore[arg-type]
    # Any other /ws/chat/ path (a room name the contract does not allow) is refused at the
    # handshake, instead of reaching the router's "no route" error and the server's error log.
    re_path(r"^ws/chat/", WebsocketDenier.as_asgi()),  # type: ignore[arg-type]
]

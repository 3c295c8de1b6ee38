"""The chat's WebSocket URL (the ASGI twin of chat/urls.py). A path that does not match, such as
a room name the contract does not allow, falls through to the project's refusal
(myproject/routing.py)."""

from django.urls import re_path

from chat.consumers import ChatConsumer
from chat.models import ROOM_NAME_PATTERN

websocket_urlpatterns = [
    # django-stubs types re_path()'s view as a Django view; Channels' URLRouter routes ASGI apps.
    re_path(rf"^ws/chat/(?P<room>{ROOM_NAME_PATTERN})/$", ChatConsumer.as_asgi()),  # type: ignore[arg-type]
]

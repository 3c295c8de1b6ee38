"""The demo's WebSocket URLs (the ASGI twin of demo/urls.py): the /demo/wire/ page's echo socket and
the race page's driver."""

from django.urls import path, re_path

from demo.consumers import RaceConsumer, wire_echo

websocket_urlpatterns = [
    # django-stubs types path()'s view as a Django view; Channels' URLRouter routes ASGI apps.
    re_path(r"^ws/wire/$", wire_echo),  # type: ignore[arg-type]
    path("ws/race/", RaceConsumer.as_asgi()),  # type: ignore[arg-type]
]

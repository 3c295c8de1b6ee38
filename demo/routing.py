"""The demo's WebSocket URL (the ASGI twin of demo/urls.py): the /demo/wire/ page's echo socket."""

from django.urls import re_path

from demo.consumers import wire_echo

websocket_urlpatterns = [
    # django-stubs types re_path()'s view as a Django view; Channels' URLRouter routes ASGI apps.
    re_path(r"^ws/wire/$", wire_echo),  # type: ignore[arg-type]
]

from django.urls import path

from demo.consumers import RaceConsumer

websocket_urlpatterns = [
    # django-stubs types path()'s view as a Django view; Channels' URLRouter routes ASGI apps.
    path("ws/race/", RaceConsumer.as_asgi()),  # type: ignore[arg-type]
]

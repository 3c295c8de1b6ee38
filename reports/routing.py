from django.urls import path

from reports.consumers import NotificationsConsumer

websocket_urlpatterns = [
    # django-stubs types path()'s view as a Django view; Channels' URLRouter routes ASGI apps.
    path("ws/notifications/", NotificationsConsumer.as_asgi()),  # type: ignore[arg-type]
]

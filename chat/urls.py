from django.urls import re_path

from chat import views
from chat.models import ROOM_NAME_PATTERN

app_name = "chat"

urlpatterns = [
    re_path(r"^$", views.lobby, name="lobby"),
    re_path(rf"^(?P<room>{ROOM_NAME_PATTERN})/$", views.room, name="room"),
]

"""The chat's pages. Plain `def` views, so both stacks serve them; the socket each room page opens
is served by the ASGI stack only."""

from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from chat.forms import OpenRoomForm
from chat.models import Room
from myproject.which_stack.layout import websocket_port
from myproject.which_stack.served_by import interface_of

# The lobby shows the most recently active rooms; older ones are still a name away (the form).
LOBBY_ROOMS = 100


def lobby(request: HttpRequest) -> HttpResponse:
    form = OpenRoomForm(request.GET if "room" in request.GET else None)
    if form.is_valid():
        return redirect("chat:room", room=form.cleaned_data["room"])
    rooms = Room.objects.order_by(F("last_message_at").desc(nulls_last=True), "name")[:LOBBY_ROOMS]
    status = 400 if form.is_bound else 200
    return render(request, "chat/lobby.html", {"form": form, "rooms": rooms}, status=status)


def room(request: HttpRequest, room: str) -> HttpResponse:
    socket_port = websocket_port(request)
    context = {
        "room": room,
        "socket_port": socket_port or "",
        # Gunicorn cannot accept a WebSocket: a page it served must send its socket elsewhere,
        # to the ASGI stack's port (ASGI_STACK_PORT) or to a proxy that routes /ws/ to the ASGI stack.
        "served_by_wsgi_without_socket_port": interface_of(request) == "wsgi" and not socket_port,
    }
    return render(request, "chat/room.html", context)

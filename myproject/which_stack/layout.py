"""How the two stacks are laid out around this request, and so where the other stack is and where a
page opens its WebSocket.

- "side-by-side": `make run`; each stack on a port of its own (settings.WSGI_STACK_PORT and
  ASGI_STACK_PORT), the browser talking to each directly.
- "proxied": a proxy in front (nginx under `docker compose up`) chose the stack by the path
  (deploy/nginx/default.conf.template); the other stack is behind the same origin.
- "runserver": `manage.py runserver`, one process serving everything through ASGI.
- "direct": a stack reached on its own port, with no other stack configured (a container's
  published port, a platform's web process).
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port

from myproject.which_stack.served_by import interface_of

Layout = Literal["side-by-side", "proxied", "runserver", "direct"]


def layout_of(request: HttpRequest) -> Layout:
    if came_through_proxy(request):
        return "proxied"
    if settings.RUNSERVER:
        return "runserver"
    if settings.WSGI_STACK_PORT and settings.ASGI_STACK_PORT:
        return "side-by-side"
    return "direct"


def came_through_proxy(request: HttpRequest) -> bool:
    """Whether a proxy the servers were told to trust (FORWARDED_ALLOW_IPS) passed this request on.

    The proxy adds X-Forwarded-For to every request. Whether the request really came from the
    proxy's address is the server's call, and the server keeps the answer to itself: Uvicorn has
    already replaced the proxy's address with the visitor's before Django sees the request. A client
    that reaches a stack directly and writes the header itself only relabels its own page; nothing
    but labels and socket addresses depend on this. DJANGO_TRUSTED_PROXY is no sign of a path-routing
    proxy: it says a proxy sets X-Forwarded-Proto, and a platform's router sends every path to one
    process.
    """
    return bool(settings.FORWARDED_ALLOW_IPS) and "HTTP_X_FORWARDED_FOR" in request.META


def other_stack_url(request: HttpRequest) -> str | None:
    """This page (path and query) on the other stack, when the stacks run side by side: the same
    host name, so the browser sends the same session cookie (cookies ignore the port)."""
    if layout_of(request) != "side-by-side":
        return None
    port = settings.ASGI_STACK_PORT if interface_of(request) == "wsgi" else settings.WSGI_STACK_PORT
    domain, _ = split_domain_port(request.get_host())
    return f"{request.scheme}://{domain}:{port}{request.get_full_path()}"


def websocket_port(request: HttpRequest) -> int | None:
    """The port a page opens its WebSocket on, or None for the page's own origin.

    Gunicorn cannot accept a WebSocket, so a page it served directly sends its socket to the ASGI
    stack's port. A page the ASGI stack served holds its own sockets, and behind a proxy the page's
    origin routes /ws/ to the ASGI stack.
    """
    if interface_of(request) == "asgi" or came_through_proxy(request):
        return None
    return settings.ASGI_STACK_PORT


def race_socket_port(request: HttpRequest) -> int | None:
    """The port the race page opens its driver's socket on, or None for the page's own origin.

    The driver runs in a process of its own when RACE_DRIVER_PORT names one (`make run`), so that
    neither stack it races can stall it; behind a proxy the page's origin routes /ws/race/ to it.
    Without one (runserver, a lone stack) the race socket goes where every other socket goes.
    """
    if settings.RACE_DRIVER_PORT and not came_through_proxy(request):
        return settings.RACE_DRIVER_PORT
    return websocket_port(request)

"""/demo/wire/: the page that shows one request as the server handed it to Django.

The page's script makes the requests the recorders of myproject/wire/recorders.py record: a GET of
/demo/wire/capture/ (the sync `hello` probe, served under the one path the recorders watch), then
a short exchange on the echo socket /ws/wire/. Each answer names its trace's token; the script
fetches the trace from `wire_trace` and draws it.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from demo.consumers import MAX_FRAMES
from myproject.which_stack.layout import websocket_port
from myproject.which_stack.served_by import interface_of
from myproject.wire.recorders import TRACE_HEADER, TRACE_SECONDS, stored_trace
from myproject.wire.trace import MASK, SECRET_WORDS

# What the script puts in place of the token in the trace URL it is given.
TOKEN_PLACEHOLDER = "TOKEN"


@require_safe
def wire(request: HttpRequest) -> HttpResponse:
    socket_port = websocket_port(request)
    context = {
        "interface": interface_of(request),
        "socket_port": socket_port or "",
        "token_placeholder": TOKEN_PLACEHOLDER,
        "trace_header": TRACE_HEADER,
        "trace_seconds": TRACE_SECONDS,
        "echo_frames": MAX_FRAMES,
        "secret_words": SECRET_WORDS,
        "mask": MASK,
        "captures_per_client": settings.WIRE_CAPTURES_PER_CLIENT,
        "captures_total": settings.WIRE_CAPTURES_TOTAL,
        # As on the chat's pages: Gunicorn cannot accept a WebSocket, so a page it served sends its
        # socket to the ASGI stack's port (ASGI_STACK_PORT), or relies on a proxy that routes /ws/ to
        # the ASGI stack.
        "served_by_wsgi_without_socket_port": interface_of(request) == "wsgi" and not socket_port,
    }
    return render(request, "demo/wire.html", context)


@require_safe
@never_cache
def wire_trace(request: HttpRequest, token: str) -> JsonResponse:
    trace = stored_trace(token)
    if trace is None:
        return JsonResponse(
            {"error": f"no trace with this token: traces are kept {TRACE_SECONDS} seconds"}, status=404
        )
    return JsonResponse(trace)

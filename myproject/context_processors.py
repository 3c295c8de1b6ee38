"""Context for every template: `stack`, which stack served the page and where the other one is
(a `Stack` built from myproject/which_stack/), for the header in templates/base.html and the home
page; and `demo_on`, whether the /demo/ pages are routed.

It runs for every page rendered with a request, so it does only cheap work: a type check, a few
dictionary lookups and settings, no database query and no file read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from myproject.which_stack.layout import Layout, layout_of, other_stack_url
from myproject.which_stack.served_by import interface_of, server_name


@dataclass(frozen=True)
class Stack:
    interface: str  # "wsgi" or "asgi"
    server: str  # "Gunicorn", "Uvicorn", ...
    layout: Layout
    # The same page on the other stack, when the stacks run side by side (make run).
    other_url: str | None
    # The stacks' ports when they run side by side, else None.
    wsgi_port: int | None
    asgi_port: int | None

    @property
    def other_interface(self) -> str:
        return "asgi" if self.interface == "wsgi" else "wsgi"


def stack(request: HttpRequest) -> dict[str, Stack | bool]:
    return {
        # Whether /demo/ is routed at all (DJANGO_DEMO): the header and the home page link to it
        # only then.
        "demo_on": settings.DEMO,
        "stack": Stack(
            interface=interface_of(request),
            server=server_name(request),
            layout=layout_of(request),
            other_url=other_stack_url(request),
            wsgi_port=settings.WSGI_STACK_PORT,
            asgi_port=settings.ASGI_STACK_PORT,
        ),
    }

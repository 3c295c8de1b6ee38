"""The project's own middleware: the X-Interface header, on both stacks."""

from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from myproject.which_stack.served_by import interface_of

AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]
SyncGetResponse = Callable[[HttpRequest], HttpResponseBase]


class InterfaceHeaderMiddleware:
    """Adds `X-Interface: wsgi|asgi` to every response (see docs/protocol.md).

    It is both sync- and async-capable: Django calls it in the mode of the handler it sits in. Under
    ASGI it runs on the event loop only if the middleware next to it can too: one sync-only
    neighbour (WhiteNoise's, in the stock list) puts it on that neighbour's worker thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: SyncGetResponse | AsyncGetResponse) -> None:
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if iscoroutinefunction(self.get_response):
            return self.__acall__(request)
        response = cast(SyncGetResponse, self.get_response)(request)
        response["X-Interface"] = interface_of(request)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = await cast(AsyncGetResponse, self.get_response)(request)
        response["X-Interface"] = interface_of(request)
        return response

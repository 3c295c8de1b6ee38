from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from myproject.serving import interface_of


class InterfaceHeaderMiddleware:
    """Adds `X-Interface: wsgi|asgi` to every response (see docs/protocol.md).

    It is both sync- and async-capable: Django calls it in the mode of the handler it sits in, so
    under ASGI it runs on the event loop instead of costing a hop to a worker thread and back, as a
    sync-only middleware would.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        response = self.get_response(request)
        response["X-Interface"] = interface_of(request)
        return response

    async def __acall__(self, request):
        response = await self.get_response(request)
        response["X-Interface"] = interface_of(request)
        return response

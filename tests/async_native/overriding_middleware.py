"""Middleware a user might write: subclasses of each stack's SessionMiddleware whose overridden sync
hooks touch the database (tests/async_native/test_overridden_hooks.py), and a sync-only one
(test_checks.py)."""

from django.contrib.auth import get_user_model
from django.contrib.sessions.middleware import SessionMiddleware as DjangosSessionMiddleware

from async_native.middleware import SessionMiddleware as AsyncNativeSessionMiddleware


class CountsUsersOnRequest:
    def process_request(self, request):
        request.user_count = get_user_model().objects.count()
        return super().process_request(request)


class CountsUsersOnResponse:
    def process_response(self, request, response):
        response["X-User-Count"] = str(get_user_model().objects.count())
        return super().process_response(request, response)


class DjangosCountingOnRequest(CountsUsersOnRequest, DjangosSessionMiddleware):
    pass


class DjangosCountingOnResponse(CountsUsersOnResponse, DjangosSessionMiddleware):
    pass


class AsyncNativeCountingOnRequest(CountsUsersOnRequest, AsyncNativeSessionMiddleware):
    pass


class AsyncNativeCountingOnResponse(CountsUsersOnResponse, AsyncNativeSessionMiddleware):
    pass


class SyncOnlyMiddleware:
    """A middleware that is not async-capable, as many older ones are."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

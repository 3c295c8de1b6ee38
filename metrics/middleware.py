"""Counts and times every HTTP request, and answers /metrics.

Outermost in MIDDLEWARE (myproject/settings.py), so that it times the whole stack and sees every
answer, static files and early refusals included. It is sync- and async-capable like the project's
other middleware: Django calls it in the mode of the handler it sits in, with no thread hop.

/metrics is answered here, before the rest of the stack, for two reasons: a scrape reads no session
and no database, and Prometheus reaches each replica by its address, which is not one of the site's
host names (ALLOWED_HOSTS); the answer builds no URL from the Host header, so it needs no check.
"""

from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, Counter, Histogram

from metrics.access import may_read_metrics
from metrics.exposition import exposition
from metrics.instruments import HTTP_REQUEST_DURATION, HTTP_REQUESTS

METRICS_PATH = "/metrics"
# The text format every Prometheus reads. generate_latest() writes the classic names it holds, and
# prometheus-client's CONTENT_TYPE_LATEST (version=1.0.0, for UTF-8 names) is newer than some
# Prometheus servers still in use (Debian bookworm's 2.42).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# A refused /metrics falls through to the URLconf's 404 like any unknown path; an answered one is
# labelled with this name.
METRICS_VIEW = "metrics"
# The view label of a request no URL pattern matched: a 404, a static file, a redirect to HTTPS.
UNRESOLVED = "unresolved"

AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]
SyncGetResponse = Callable[[HttpRequest], HttpResponseBase]


def view_label(request: HttpRequest) -> str:
    """The URL pattern's name ("chat:room"), never the path: one series per view, however many
    rooms or report ids the paths carry."""
    match = request.resolver_match
    return match.view_name if match is not None else UNRESOLVED


class RequestMetricsMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: SyncGetResponse | AsyncGetResponse) -> None:
        self.get_response = get_response
        self.interface = settings.SERVER_INTERFACE
        self.series: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if iscoroutinefunction(self.get_response):
            return self.__acall__(request)
        started = perf_counter()
        if request.path_info == METRICS_PATH and may_read_metrics(request):
            response: HttpResponseBase = HttpResponse(exposition(), content_type=CONTENT_TYPE)
            self.record(METRICS_VIEW, response, started)
            return response
        response = cast(SyncGetResponse, self.get_response)(request)
        self.record(view_label(request), response, started)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        started = perf_counter()
        if request.path_info == METRICS_PATH and may_read_metrics(request):
            # Reading every worker's files is blocking I/O: off the event loop, on any thread.
            body = await sync_to_async(exposition, thread_sensitive=False)()
            response: HttpResponseBase = HttpResponse(body, content_type=CONTENT_TYPE)
            self.record(METRICS_VIEW, response, started)
            return response
        response = await cast(AsyncGetResponse, self.get_response)(request)
        self.record(view_label(request), response, started)
        return response

    def record(self, view: str, response: HttpResponseBase, started: float) -> None:
        seconds = perf_counter() - started
        key = (view, response.status_code)
        series = self.series.get(key)
        if series is None:
            # labels() takes a lock and builds the label tuple on every call: a third of the cost,
            # paid once per view and status instead. A few dozen pairs at most.
            series = self.series[key] = (
                HTTP_REQUESTS.labels(self.interface, view, str(response.status_code)),
                HTTP_REQUEST_DURATION.labels(self.interface, view),
            )
        requests, duration = series
        requests.inc()
        duration.observe(seconds)

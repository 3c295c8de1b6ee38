"""The report pages: plain `def` views, the WSGI side of the project.

Each request runs a few aggregate queries and renders a page; nothing in it waits on anything but
the database, so a sync worker handles it from start to finish with no event loop to feed. Under
ASGI the same functions run in a worker thread (Django wraps them in sync_to_async), which costs a
thread hop and buys nothing here: these pages are served best by Gunicorn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from myproject.which_stack.layout import websocket_port
from myproject.which_stack.served_by import interface_of
from reports.charts import draw_chart
from reports.definitions import REPORTS, get_report_or_404
from reports.export_slots import areleased_after, export_slot_acquire, released_after
from reports.exports import acsv_chunks, ano_chunks, csv_chunks, csv_filename, no_chunks
from reports.filters import DateRangeForm
from reports.selectors import publications_latest
from reports.services import publication_create

LIVE_PAGE_BACKLOG = 20


@require_safe
def report_list(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/report_list.html", {"reports": REPORTS.values()})


@require_safe
def report_detail(request: HttpRequest, slug: str) -> HttpResponse:
    report = get_report_or_404(slug)
    form = DateRangeForm(request.GET)
    context = {"report": report, "form": form}
    if not form.is_valid():
        return render(request, "reports/report_detail.html", context, status=400)
    date_range = form.date_range()
    query = report.rows(date_range)
    if report.preview_rows:
        context["total_rows"] = query.count()
        query = query[: report.preview_rows]
    rows = list(query)
    context.update(
        date_range=date_range,
        rows=[[(column, column.display(row[column.key])) for column in report.columns] for row in rows],
        chart=draw_chart(report, rows),
        query=urlencode(date_range.as_query()),
    )
    return render(request, "reports/report_detail.html", context)


@require_safe
def report_csv(request: HttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    report = get_report_or_404(slug)
    if settings.REPORTS_EXPORT_LOGIN_REQUIRED and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    form = DateRangeForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.error_text(), content_type="text/plain; charset=utf-8")
    date_range = form.date_range()
    interface = interface_of(request)
    body: Iterator[bytes] | AsyncIterator[bytes]
    if request.method == "HEAD":
        # The headers a GET would get and no body. Neither server sends a body for HEAD, but both
        # would still iterate it to the end (Gunicorn in its worker, Django's ASGI handler on the
        # loop), running the whole export for nothing.
        body = no_chunks() if interface == "wsgi" else ano_chunks()
    else:
        slot = export_slot_acquire(interface)
        if slot is None:
            return _exports_busy()
        # See reports/exports.py: an async iterator under ASGI, a sync one under WSGI. Either kind
        # on the other interface makes Django buffer the whole export before sending it.
        if interface == "asgi":
            body = areleased_after(acsv_chunks(report, date_range), slot)
        else:
            body = released_after(csv_chunks(report, date_range), slot)
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{csv_filename(report, date_range)}"'
    return response


def _exports_busy() -> HttpResponse:
    # 503 rather than 429: the server is busy, whoever asks; this client has done nothing wrong.
    response = HttpResponse(
        "Too many exports are running right now; please try again shortly.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(settings.REPORTS_EXPORT_RETRY_AFTER_SECONDS)
    return response


@require_POST
def report_publish(request: HttpRequest, slug: str) -> HttpResponse:
    report = get_report_or_404(slug)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("reports:detail", args=[slug]))
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can publish reports.")
    form = DateRangeForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form.error_text(), content_type="text/plain; charset=utf-8")
    publishing = publication_create(report=report, date_range=form.date_range(), user=request.user)
    publication = publishing.publication
    if publishing.broadcast_sent is False:
        messages.warning(
            request,
            f"Published “{publication.title}” (#{publication.pk}), but the live broadcast failed: "
            "the channel layer did not answer. Connected clients will get it when they reconnect.",
        )
    else:
        messages.success(request, f"Published “{publication.title}” (#{publication.pk}) to live clients.")
    response = HttpResponseRedirect(publication.get_absolute_url())
    response.status_code = 303  # See Other: the browser follows with a GET, so a reload cannot publish twice
    return response


@require_safe
def publications_live(request: HttpRequest) -> HttpResponse:
    recent = publications_latest(LIVE_PAGE_BACKLOG)
    socket_port = websocket_port(request)
    context = {
        "publications": recent,
        "last_id": recent[-1].pk if recent else 0,
        # Gunicorn cannot hold the page's WebSocket: a page it served opens it on the ASGI stack.
        "socket_port": socket_port or "",
        "served_by_wsgi_without_socket_port": interface_of(request) == "wsgi" and not socket_port,
    }
    return render(request, "reports/publications_live.html", context)

import csv
import io
import re
import warnings

import pytest
from django.http import QueryDict
from django.test import AsyncClient, Client

from reports import exports
from reports.definitions import REPORTS
from reports.filters import DateRange, DateRangeForm
from tests.reports.conftest import DATE_FILTERS

pytestmark = pytest.mark.django_db


def csv_body(response) -> bytes:
    return b"".join(response.streaming_content)


def parsed(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


async def async_csv_body(response) -> bytes:
    return b"".join([chunk async for chunk in response.streaming_content])


def test_is_streamed_as_utf8_csv_attachment(plain_client: Client, shop):
    response = plain_client.get("/reports/revenue-by-month/csv/?start=2025-01-01&end=2025-06-30")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="revenue-by-month_2025-01-01_2025-06-30.csv"'
    )
    assert not response.has_header("Content-Length")


@pytest.mark.parametrize("slug", list(REPORTS))
def test_first_line_is_the_column_header(plain_client, shop, slug):
    rows = parsed(csv_body(plain_client.get(f"/reports/{slug}/csv/")))

    assert rows[0] == [column.label for column in REPORTS[slug].columns]


@pytest.mark.parametrize("slug", list(REPORTS))
def test_has_one_line_per_report_row(plain_client, shop, slug):
    rows = parsed(csv_body(plain_client.get(f"/reports/{slug}/csv/")))

    assert len(rows) - 1 == len(REPORTS[slug].rows(DateRange()))


@pytest.mark.parametrize("query", DATE_FILTERS)
@pytest.mark.parametrize("slug", list(REPORTS))
def test_every_export_is_whole_under_every_date_filter_with_debug_on_or_off(
    plain_client, shop, debug, slug, query
):
    form = DateRangeForm(QueryDict(query))
    assert form.is_valid()
    expected = len(REPORTS[slug].rows(form.date_range()))

    rows = parsed(csv_body(plain_client.get(f"/reports/{slug}/csv/?{query}")))

    assert len(rows) - 1 == expected > 0


def test_the_order_lines_export_has_every_line(plain_client, shop):
    rows = parsed(csv_body(plain_client.get("/reports/order-lines/csv/")))

    assert len(rows) - 1 == shop
    assert sorted(int(row[0]) for row in rows[1:]) == list(range(1, shop + 1))


def test_fields_with_commas_and_quotes_are_quoted(plain_client, shop):
    body = csv_body(plain_client.get("/reports/top-products/csv/"))

    assert b'"Mug ""Classic"", 350 ml"' in body
    assert [row[1] for row in parsed(body) if row[0] == "MUG-001"] == ['Mug "Classic", 350 ml']


def test_lines_end_with_crlf(plain_client, shop):
    body = csv_body(plain_client.get("/reports/revenue-by-region/csv/"))

    assert body.count(b"\r\n") == len(parsed(body))
    assert b"\n" not in body.replace(b"\r\n", b"")


def test_text_is_utf8_encoded(plain_client, shop):
    body = csv_body(plain_client.get("/reports/revenue-by-region/csv/"))

    assert "Île-de-France".encode() in body
    assert "Skåne".encode() in body


def test_values_are_plain_for_spreadsheets(plain_client, shop):
    rows = parsed(csv_body(plain_client.get("/reports/revenue-by-month/csv/")))

    month, orders, units, revenue = rows[1]
    assert month == "2024-01"
    assert orders.isdigit()
    assert units.isdigit()
    assert re.fullmatch(r"\d+\.\d\d", revenue)


def test_the_date_range_filters_the_rows(plain_client, shop):
    response = plain_client.get("/reports/revenue-by-month/csv/?start=2025-01-01&end=2025-03-31")
    rows = parsed(csv_body(response))

    assert [row[0] for row in rows[1:]] == ["2025-01", "2025-02", "2025-03"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=31-12-2024", "Start must be a date written YYYY-MM-DD."),
        ("end=tomorrow", "End must be a date written YYYY-MM-DD."),
        ("start=2025-02-01&end=2025-01-01", "The start date must be on or before the end date."),
        ("end=3000-01-01", "End must be between 2000-01-01 and 2099-12-31."),
    ],
)
def test_bad_filters_get_a_400_that_says_what_is_wrong(plain_client, query, message):
    response = plain_client.get(f"/reports/revenue-by-month/csv/?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert message in response.content.decode()


def test_an_unknown_report_is_a_404(plain_client):
    assert plain_client.get("/reports/no-such-report/csv/").status_code == 404


def test_rows_go_out_in_chunks_not_all_at_once(plain_client, shop, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 100)

    chunks = list(plain_client.get("/reports/order-lines/csv/").streaming_content)

    # The header, then one chunk per 100 rows.
    assert len(chunks) == 1 + shop // 100
    assert all(chunk.count(b"\r\n") == 100 for chunk in chunks[1:])


def test_wsgi_streams_a_sync_iterator(plain_client, shop):
    response = plain_client.get("/reports/order-lines/csv/")

    assert response.is_async is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("orm_thread_connections_closed")
async def test_asgi_streams_an_async_iterator_without_djangos_buffering_warning(shop, plain_user):
    client = AsyncClient()
    await client.aforce_login(plain_user)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = await client.get("/reports/order-lines/csv/")
        body = await async_csv_body(response)

    assert response.is_async is True
    assert not [warning for warning in caught if "synchronous iterators" in str(warning.message)]
    assert len(parsed(body)) - 1 == shop


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("orm_thread_connections_closed")
@pytest.mark.parametrize(
    "path", ["/reports/order-lines/csv/?start=2024-06-01", "/reports/revenue-by-month/csv/?start=2025-01-01"]
)
async def test_both_interfaces_export_the_same_bytes_with_debug_on_or_off(shop, plain_user, debug, path):
    from asgiref.sync import sync_to_async

    def wsgi_export() -> bytes:
        client = Client()
        client.force_login(plain_user)
        return csv_body(client.get(path))

    client = AsyncClient()
    await client.aforce_login(plain_user)
    asgi = await async_csv_body(await client.get(path))

    assert asgi == await sync_to_async(wsgi_export)()


def test_an_anonymous_export_is_sent_to_the_login_page(client, shop):
    response = client.get("/reports/order-lines/csv/?start=2025-01-01")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/reports/order-lines/csv/%3Fstart%3D2025-01-01"


def test_anonymous_exports_can_be_allowed_by_setting(client, shop, settings):
    settings.REPORTS_EXPORT_LOGIN_REQUIRED = False

    assert client.get("/reports/revenue-by-month/csv/").status_code == 200


def test_an_export_past_the_limit_gets_503_with_retry_after(plain_client, shop, settings):
    settings.REPORTS_EXPORT_CONCURRENCY = 1
    settings.REPORTS_EXPORT_RETRY_AFTER_SECONDS = 7
    running = plain_client.get("/reports/order-lines/csv/")
    next(iter(running.streaming_content))  # started, not finished: it holds the one slot

    refused = plain_client.get("/reports/order-lines/csv/")

    assert refused.status_code == 503
    assert refused["Retry-After"] == "7"
    running.close()


def test_a_finished_export_gives_its_slot_back(plain_client, shop, settings):
    settings.REPORTS_EXPORT_CONCURRENCY = 1
    csv_body(plain_client.get("/reports/revenue-by-month/csv/"))

    assert plain_client.get("/reports/revenue-by-month/csv/").status_code == 200


# transactional_db: as in production, no transaction wraps the request. Inside the test's own
# transaction, PostgreSQL's server-side cursor of the abandoned export would take the test's
# connection down with it when the response is closed.
def test_an_export_closed_halfway_gives_its_slot_back(transactional_db, plain_client, shop, settings):
    settings.REPORTS_EXPORT_CONCURRENCY = 1
    abandoned = plain_client.get("/reports/order-lines/csv/")
    next(iter(abandoned.streaming_content))
    abandoned.close()  # what the WSGI server does when the client goes away

    assert plain_client.get("/reports/revenue-by-month/csv/").status_code == 200

import random
import re

import pytest
from django.http import QueryDict
from django.test import AsyncClient, Client
from django.utils.html import escape

from reports.definitions import REPORTS
from reports.filters import DateRange, DateRangeForm
from reports.models import Product, Publication
from reports.seeding import seed_shop
from reports.views import LIVE_PAGE_BACKLOG
from tests.reports.conftest import DATE_FILTERS

pytestmark = pytest.mark.django_db


def table_rows(html: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]


def test_the_list_links_every_report(client: Client):
    response = client.get("/reports/")

    assert response.status_code == 200
    for slug in REPORTS:
        assert f'href="/reports/{slug}/"' in response.text
        assert f'href="/reports/{slug}/csv/"' in response.text


@pytest.mark.parametrize("slug", ["revenue-by-month", "top-products", "revenue-by-region"])
def test_a_report_page_shows_a_table_and_an_svg_chart(client, shop, slug):
    response = client.get(f"/reports/{slug}/")

    assert response.status_code == 200
    assert 'data-testid="report-table"' in response.text
    assert re.search(r'<svg xmlns="http://www.w3.org/2000/svg"[^>]*data-testid="chart"', response.text)


@pytest.mark.parametrize("query", DATE_FILTERS)
@pytest.mark.parametrize("slug", list(REPORTS))
def test_every_report_page_answers_every_date_filter_with_debug_on_or_off(client, shop, debug, slug, query):
    form = DateRangeForm(QueryDict(query))
    assert form.is_valid()
    report = REPORTS[slug]
    expected = min(len(report.rows(form.date_range())), report.preview_rows or shop)

    response = client.get(f"/reports/{slug}/?{query}")

    assert response.status_code == 200
    assert len(table_rows(response.text)) == expected > 0


def test_the_page_table_has_one_row_per_report_row(client, shop):
    response = client.get("/reports/revenue-by-region/")

    expected = list(REPORTS["revenue-by-region"].rows(DateRange()))
    rows = table_rows(response.text)
    assert len(rows) == len(expected)
    assert rows[0] == [
        escape(expected[0]["region"]),
        f"{expected[0]['orders']:,}",
        f"{expected[0]['units']:,}",
        f"{expected[0]['revenue']:,.2f}",
    ]


def test_a_date_range_narrows_the_table(client, shop):
    response = client.get("/reports/revenue-by-month/?start=2025-01-01&end=2025-03-31")

    assert [row[0] for row in table_rows(response.text)] == ["2025-01", "2025-02", "2025-03"]
    assert 'data-testid="range">2025-01-01 to 2025-03-31<' in response.text


def test_the_csv_link_keeps_the_date_range(client, shop):
    response = client.get("/reports/top-products/?start=2025-01-01&end=2025-03-31")

    assert 'href="/reports/top-products/csv/?start=2025-01-01&amp;end=2025-03-31"' in response.text


def test_an_empty_range_says_so(client, shop):
    response = client.get("/reports/revenue-by-month/?start=2030-01-01")

    assert response.status_code == 200
    assert 'data-testid="no-rows"' in response.text
    assert 'data-testid="chart"' not in response.text


def test_the_order_lines_page_previews_its_first_rows_and_counts_them_all(client, shop):
    response = client.get("/reports/order-lines/")

    preview = REPORTS["order-lines"].preview_rows
    assert len(table_rows(response.text)) == preview
    assert f"Showing the first {preview} of {shop} rows" in response.text


def test_the_row_count_is_grouped_by_thousands_like_the_table(client, shop):
    seed_shop(random.Random("tests:more lines"), 1_024)  # tops the shop up to 1,024 lines

    response = client.get("/reports/order-lines/")

    assert 'data-testid="total-rows">Showing the first 100 of 1,024 rows;' in response.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=not-a-date", "Start must be a date written YYYY-MM-DD."),
        ("end=2025-02-30", "End must be a date written YYYY-MM-DD."),
        ("start=2025-03-01&end=2025-01-01", "The start date must be on or before the end date."),
        ("start=1900-01-01", "Start must be between 2000-01-01 and 2099-12-31."),
    ],
)
def test_bad_filters_get_a_400_page_that_says_what_is_wrong(client, shop, query, message):
    response = client.get(f"/reports/revenue-by-month/?{query}")

    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in response.text
    assert message in response.text
    assert 'data-testid="report-table"' not in response.text


def test_an_unknown_report_is_a_404(client):
    assert client.get("/reports/no-such-report/").status_code == 404


def test_a_post_to_a_report_page_is_not_allowed(client):
    assert client.post("/reports/revenue-by-month/").status_code == 405


def test_labels_from_the_data_are_escaped_in_the_chart_and_table(client, shop):
    Product.objects.filter(sku="MUG-001").update(name="<script>alert(1)</script>")

    response = client.get("/reports/top-products/")

    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_only_staff_see_the_publish_button(client, staff_client, plain_client, shop):
    assert 'data-testid="publish"' in staff_client.get("/reports/revenue-by-month/").text
    assert 'data-testid="publish"' not in plain_client.get("/reports/revenue-by-month/").text
    assert 'data-testid="publish"' not in client.get("/reports/revenue-by-month/").text


def test_the_publish_form_carries_the_shown_date_range(staff_client, shop):
    response = staff_client.get("/reports/revenue-by-month/?start=2025-01-01&end=2025-03-31")

    assert '<input type="hidden" name="start" value="2025-01-01">' in response.text
    assert '<input type="hidden" name="end" value="2025-03-31">' in response.text


def publications(count: int) -> list[Publication]:
    return [
        Publication.objects.create(report_slug="top-products", title=f"Top products #{n}")
        for n in range(count)
    ]


def test_the_live_page_lists_the_latest_publications_oldest_first_and_resumes_after_the_newest(client):
    created = publications(LIVE_PAGE_BACKLOG + 3)

    response = client.get("/reports/live/")

    shown = [int(pk) for pk in re.findall(r'<li data-id="(\d+)"', response.text)]
    assert shown == [publication.pk for publication in created[-LIVE_PAGE_BACKLOG:]]
    assert f'data-last-id="{created[-1].pk}"' in response.text


def test_the_live_page_without_publications_resumes_after_zero(client):
    response = client.get("/reports/live/")

    assert 'data-testid="no-publications"' in response.text
    assert 'data-last-id="0"' in response.text


def test_the_live_page_served_by_wsgi_says_live_updates_need_the_asgi_stack(client):
    assert 'data-testid="wsgi-note"' in client.get("/reports/live/").text


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("orm_thread_connections_closed")
async def test_the_live_page_served_by_asgi_has_no_such_note():
    response = await AsyncClient().get("/reports/live/")

    assert response.status_code == 200
    assert 'data-testid="wsgi-note"' not in response.text

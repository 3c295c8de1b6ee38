"""Each report's database aggregation checked against the same sums done in Python over every line."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.http import Http404

from reports.definitions import REPORTS, TOP_PRODUCTS_LIMIT, Column, get_report_or_404
from reports.filters import DateRange
from reports.models import OrderLine

pytestmark = pytest.mark.django_db

EVERYTHING = DateRange()
FIRST_QUARTER_2025 = DateRange(dt.date(2025, 1, 1), dt.date(2025, 3, 31))


def lines() -> list[dict]:
    return list(
        OrderLine.objects.values(
            "quantity",
            "unit_price",
            "order_id",
            "order__placed_at",
            "order__region__name",
            "product__sku",
        )
    )


def revenue(line: dict) -> Decimal:
    return line["quantity"] * line["unit_price"]


def test_revenue_by_month_matches_the_lines(shop):
    expected = defaultdict(Decimal)
    for line in lines():
        expected[line["order__placed_at"].strftime("%Y-%m")] += revenue(line)

    rows = list(REPORTS["revenue-by-month"].rows(EVERYTHING))

    assert {row["month"]: row["revenue"] for row in rows} == expected
    assert [row["month"] for row in rows] == sorted(row["month"] for row in rows)


def test_revenue_by_month_counts_each_order_once(shop):
    orders = defaultdict(set)
    for line in lines():
        orders[line["order__placed_at"].strftime("%Y-%m")].add(line["order_id"])

    rows = REPORTS["revenue-by-month"].rows(EVERYTHING)

    assert {row["month"]: row["orders"] for row in rows} == {month: len(ids) for month, ids in orders.items()}


def test_revenue_by_region_matches_the_lines(shop):
    expected = defaultdict(Decimal)
    for line in lines():
        expected[line["order__region__name"]] += revenue(line)

    rows = list(REPORTS["revenue-by-region"].rows(EVERYTHING))

    assert {row["region"]: row["revenue"] for row in rows} == expected
    assert [row["revenue"] for row in rows] == sorted((row["revenue"] for row in rows), reverse=True)


def test_top_products_are_the_highest_revenue_products_in_order(shop):
    totals = defaultdict(Decimal)
    for line in lines():
        totals[line["product__sku"]] += revenue(line)
    expected = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:TOP_PRODUCTS_LIMIT]

    rows = list(REPORTS["top-products"].rows(EVERYTHING))

    assert [(row["sku"], row["revenue"]) for row in rows] == expected


def test_a_date_range_limits_every_aggregate_to_its_orders(shop):
    start, end = FIRST_QUARTER_2025.start, FIRST_QUARTER_2025.end
    in_range = [line for line in lines() if start <= line["order__placed_at"].date() <= end]

    rows = list(REPORTS["revenue-by-month"].rows(FIRST_QUARTER_2025))

    assert [row["month"] for row in rows] == ["2025-01", "2025-02", "2025-03"]
    assert sum(row["revenue"] for row in rows) == sum(revenue(line) for line in in_range)


def test_order_lines_lists_every_line_with_its_total(shop):
    rows = list(REPORTS["order-lines"].rows(EVERYTHING))

    assert len(rows) == shop
    assert all(row["line_total"] == row["quantity"] * row["unit_price"] for row in rows)


def test_every_report_has_its_chart_columns(shop):
    for report in REPORTS.values():
        keys = {column.key for column in report.columns}
        if report.chart:
            assert {report.chart.label, report.chart.value} <= keys


def test_every_column_is_in_the_query(shop):
    for report in REPORTS.values():
        row = next(iter(report.rows(EVERYTHING)))
        assert {column.key for column in report.columns} <= set(row), report.slug


def test_an_unknown_slug_is_a_404():
    with pytest.raises(Http404):
        get_report_or_404("no-such-report")


@pytest.mark.parametrize(
    ("kind", "value", "shown", "exported"),
    [
        ("money", Decimal("1234567.5"), "1,234,567.50", "1234567.50"),
        ("integer", 12345, "12,345", "12345"),
        (
            "datetime",
            dt.datetime(2024, 3, 1, 9, 5, 7, tzinfo=dt.UTC),
            "2024-03-01 09:05:07 UTC",
            "2024-03-01T09:05:07+00:00",
        ),
        ("text", 'Mug "Classic"', 'Mug "Classic"', 'Mug "Classic"'),
        ("money", None, "", ""),
    ],
)
def test_a_column_formats_for_the_page_and_for_csv(kind, value, shown, exported):
    column = Column("key", "Label", kind)

    assert column.display(value) == shown
    assert column.csv_value(value) == exported


def test_months_are_utc_calendar_months_to_the_second(shop):
    line = OrderLine.objects.select_related("order").first()
    order = line.order
    order.placed_at = dt.datetime(2024, 1, 31, 23, 59, 59, tzinfo=dt.UTC)
    order.save()
    later = OrderLine.objects.exclude(order=order).select_related("order").first().order
    later.placed_at = dt.datetime(2024, 2, 1, 0, 0, 0, tzinfo=dt.UTC)
    later.save()

    january = REPORTS["revenue-by-month"].rows(DateRange(dt.date(2024, 1, 31), dt.date(2024, 1, 31)))
    february = REPORTS["revenue-by-month"].rows(DateRange(dt.date(2024, 2, 1), dt.date(2024, 2, 1)))

    assert [row["month"] for row in january] == ["2024-01"]
    assert [row["month"] for row in february] == ["2024-02"]

"""Every report, defined once: its slug, title, columns, chart and the query that computes it.

The page, the CSV export and the publish view all read these definitions, and each query lets the
database do the aggregation (GROUP BY, SUM, COUNT): Python only formats the rows that come back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import CharField, Count, DecimalField, ExpressionWrapper, F, Func, QuerySet, Sum
from django.http import Http404

from reports.filters import DateRange
from reports.models import OrderLine

if TYPE_CHECKING:  # _AsSqlType exists only in django-stubs
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

ColumnKind = Literal["text", "integer", "money", "datetime"]
# What every report query returns: order lines aggregated by the database, one dict per row.
Row = Mapping[str, Any]
ReportRows = QuerySet[OrderLine, Row]

CENTS = Decimal("0.01")
LINE_REVENUE = ExpressionWrapper(
    F("quantity") * F("unit_price"), output_field=DecimalField(max_digits=14, decimal_places=2)
)


class YearMonth(Func):
    """The UTC calendar month of a datetime, as "YYYY-MM", computed by the database itself.

    Django's portable TruncMonth is native SQL on PostgreSQL, but on SQLite it is a Python function
    that SQLite calls back for every row: several times slower over a million lines. strftime and
    to_char are native to each. (SQLite stores Django's aware datetimes as UTC text.)
    """

    output_field = CharField()

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        # The format goes in as a bound parameter, not as text in the SQL: Django's SQL strings are
        # %-format strings, and a literal '%Y' in one breaks as soon as the query has parameters
        # (a date filter) and debug mode logs it: last_executed_query() runs `sql % params`.
        sql, params = self.as_sql(
            compiler, connection, template="strftime(%%s, %(expressions)s)", **extra_context
        )
        return sql, ("%Y-%m", *params)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM')"
        return self.as_sql(compiler, connection, template=template, **extra_context)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = "text"
    # False for codes such as SKUs and order numbers: a line break at their hyphens would make
    # two half-codes of one.
    wraps: bool = True

    @property
    def numeric(self) -> bool:
        return self.kind in {"integer", "money"}

    @property
    def cell_class(self) -> str:
        """The page's CSS classes for this column's cells: numbers align right, and numbers,
        timestamps and codes are never broken across lines."""
        unbreakable = self.numeric or self.kind == "datetime" or not self.wraps
        return " ".join(name for name, wanted in (("num", self.numeric), ("nowrap", unbreakable)) if wanted)

    def display(self, value: Any) -> str:
        """The value as the page shows it: numbers grouped by thousands with the `intcomma`
        template filter, which the templates use for their own counts too; times in UTC."""
        if value is None:
            return ""
        if self.kind == "money":
            return intcomma(Decimal(value).quantize(CENTS))
        if self.kind == "integer":
            return intcomma(value)
        if self.kind == "datetime":
            # The live page writes its times the same way (reports/static/reports/live.js).
            return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
        return self.csv_value(value)

    def csv_value(self, value: Any) -> str:
        """The value as a spreadsheet should read it: no thousands separators, ISO dates."""
        if value is None:
            return ""
        if self.kind == "datetime":
            return value.isoformat(timespec="seconds")
        if self.kind == "money":
            return f"{Decimal(value):.2f}"
        return str(value)


@dataclass(frozen=True)
class Chart:
    kind: Literal["line", "bar"]
    label: str  # the column naming each point or bar
    value: str  # the column plotted


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    columns: tuple[Column, ...]
    query: Callable[[DateRange], ReportRows]
    chart: Chart | None = None
    # A report with one row per order line is far too long for a page: the page shows its first
    # rows and the total, and the CSV export has every row.
    preview_rows: int | None = None

    def rows(self, date_range: DateRange) -> QuerySet:
        return self.query(date_range)


def _lines(date_range: DateRange) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(**date_range.placed_at_filter(prefix="order__"))


def revenue_by_month(date_range: DateRange) -> ReportRows:
    return (
        _lines(date_range)
        .annotate(month=YearMonth("order__placed_at"))
        .values("month")
        .annotate(orders=Count("order", distinct=True), units=Sum("quantity"), revenue=Sum(LINE_REVENUE))
        .order_by("month")
    )


TOP_PRODUCTS_LIMIT = 20


def top_products(date_range: DateRange) -> ReportRows:
    return (
        _lines(date_range)
        .values(sku=F("product__sku"), name=F("product__name"), category=F("product__category"))
        .annotate(units=Sum("quantity"), revenue=Sum(LINE_REVENUE))
        .order_by("-revenue", "sku")[:TOP_PRODUCTS_LIMIT]
    )


def revenue_by_region(date_range: DateRange) -> ReportRows:
    return (
        _lines(date_range)
        .values(region=F("order__region__name"))
        .annotate(orders=Count("order", distinct=True), units=Sum("quantity"), revenue=Sum(LINE_REVENUE))
        .order_by("-revenue", "region")
    )


def order_lines(date_range: DateRange) -> ReportRows:
    return (
        _lines(date_range)
        .values(
            "id",
            "quantity",
            "unit_price",
            placed_at=F("order__placed_at"),
            order_number=F("order__number"),
            customer=F("order__customer__name"),
            region=F("order__region__name"),
            sku=F("product__sku"),
            product_name=F("product__name"),
            line_total=LINE_REVENUE,
        )
        .order_by("id")
    )


REPORTS: dict[str, Report] = {
    report.slug: report
    for report in [
        Report(
            slug="revenue-by-month",
            title="Revenue by month",
            description="Orders, units sold and revenue for each calendar month.",
            columns=(
                Column("month", "Month"),
                Column("orders", "Orders", "integer"),
                Column("units", "Units", "integer"),
                Column("revenue", "Revenue", "money"),
            ),
            query=revenue_by_month,
            chart=Chart("line", label="month", value="revenue"),
        ),
        Report(
            slug="top-products",
            title="Top products",
            description=f"The {TOP_PRODUCTS_LIMIT} products that brought in the most revenue.",
            columns=(
                Column("sku", "SKU", wraps=False),
                Column("name", "Product"),
                Column("category", "Category"),
                Column("units", "Units", "integer"),
                Column("revenue", "Revenue", "money"),
            ),
            query=top_products,
            chart=Chart("bar", label="name", value="revenue"),
        ),
        Report(
            slug="revenue-by-region",
            title="Revenue by region",
            description="Orders, units and revenue by the region each order was shipped to.",
            columns=(
                Column("region", "Region"),
                Column("orders", "Orders", "integer"),
                Column("units", "Units", "integer"),
                Column("revenue", "Revenue", "money"),
            ),
            query=revenue_by_region,
            chart=Chart("bar", label="region", value="revenue"),
        ),
        Report(
            slug="order-lines",
            title="Order lines",
            description="Every order line with its order, customer and product: the raw data.",
            columns=(
                Column("id", "Line"),
                Column("placed_at", "Placed at", "datetime"),
                Column("order_number", "Order", wraps=False),
                Column("customer", "Customer"),
                Column("region", "Region"),
                Column("sku", "SKU", wraps=False),
                Column("product_name", "Product"),
                Column("quantity", "Quantity", "integer"),
                Column("unit_price", "Unit price", "money"),
                Column("line_total", "Line total", "money"),
            ),
            query=order_lines,
            preview_rows=100,
        ),
    ]
}


def get_report_or_404(slug: str) -> Report:
    try:
        return REPORTS[slug]
    except KeyError:
        raise Http404(f"There is no report called {slug!r}.") from None

"""Charts drawn on the server as SVG: the page needs no JavaScript library and no CDN, and the
chart is as cacheable and printable as the table beside it.

This module only does the geometry; reports/templates/reports/_chart.svg draws it, so every label
goes through the template engine's escaping.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from reports.definitions import Column, Report, Row

# One chart point: its label, its value and the row it comes from.
Point = tuple[str, float, Row]

WIDTH = 720
BAR_HEIGHT = 22
BAR_GAP = 6
BAR_LABEL_WIDTH = 220
LINE_HEIGHT = 300
MARGIN = 40
TICK_COUNT = 5


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Mark:
    """One bar (x, y, width, height) or one point of a line (x, y)."""

    label: str
    value_text: str
    x: float
    y: float
    width: float = 0
    height: float = 0


@dataclass(frozen=True)
class ChartDrawing:
    kind: str
    title: str
    width: int
    height: int
    marks: list[Mark]
    ticks: list[Tick]
    x_labels: list[Tick]

    @property
    def polyline(self) -> str:
        return " ".join(f"{mark.x:.1f},{mark.y:.1f}" for mark in self.marks)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least `value`: axis ends that
    a reader can divide in their head."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def short_number(value: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:g}{suffix}"
    return f"{value:g}"


def draw_chart(report: Report, rows: Sequence[Row]) -> ChartDrawing | None:
    if report.chart is None or not rows:
        return None
    label_column = _column(report, report.chart.label)
    value_column = _column(report, report.chart.value)
    points = [
        (label_column.csv_value(row[label_column.key]), float(row[value_column.key] or Decimal(0)), row)
        for row in rows
    ]
    top = nice_ceiling(max(value for _, value, _ in points))
    title = f"{value_column.label} by {label_column.label.lower()}"
    if report.chart.kind == "bar":
        return _bars(title, points, top, value_column)
    return _line(title, points, top, value_column)


def _column(report: Report, key: str) -> Column:
    return next(column for column in report.columns if column.key == key)


def _bars(title: str, points: list[Point], top: float, value_column: Column) -> ChartDrawing:
    plot_width = WIDTH - BAR_LABEL_WIDTH - MARGIN * 2
    height = MARGIN + len(points) * (BAR_HEIGHT + BAR_GAP) + MARGIN
    marks = [
        Mark(
            label=label,
            value_text=value_column.display(row[value_column.key]),
            x=BAR_LABEL_WIDTH,
            y=MARGIN / 2 + index * (BAR_HEIGHT + BAR_GAP),
            width=plot_width * value / top,
            height=BAR_HEIGHT,
        )
        for index, (label, value, row) in enumerate(points)
    ]
    ticks = [
        Tick(BAR_LABEL_WIDTH + plot_width * step / TICK_COUNT, short_number(top * step / TICK_COUNT))
        for step in range(TICK_COUNT + 1)
    ]
    return ChartDrawing("bar", title, WIDTH, int(height), marks, ticks, [])


def _line(title: str, points: list[Point], top: float, value_column: Column) -> ChartDrawing:
    left, right, bottom = MARGIN * 2, WIDTH - MARGIN, LINE_HEIGHT - MARGIN
    plot_height = bottom - MARGIN
    step_x = (right - left) / max(len(points) - 1, 1)
    marks = [
        Mark(
            label=label,
            value_text=value_column.display(row[value_column.key]),
            x=left + index * step_x,
            y=bottom - plot_height * value / top,
        )
        for index, (label, value, row) in enumerate(points)
    ]
    ticks = [
        Tick(bottom - plot_height * step / TICK_COUNT, short_number(top * step / TICK_COUNT))
        for step in range(TICK_COUNT + 1)
    ]
    # About eight labels along the x axis, however many months the range holds.
    every = max(1, math.ceil(len(marks) / 8))
    x_labels = [Tick(mark.x, mark.label) for mark in marks[::every]]
    return ChartDrawing("line", title, WIDTH, LINE_HEIGHT, marks, ticks, x_labels)

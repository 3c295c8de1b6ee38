import itertools
from decimal import Decimal

import pytest

from reports.charts import BAR_LABEL_WIDTH, MARGIN, WIDTH, draw_chart, nice_ceiling, short_number
from reports.definitions import REPORTS


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (0.7, 1), (1, 1), (1.2, 2), (2.2, 2.5), (3, 5), (7, 10), (12_345, 20_000), (51_000, 100_000)],
)
def test_nice_ceiling_rounds_up_to_a_readable_axis_end(value, ceiling):
    assert nice_ceiling(value) == pytest.approx(ceiling)


@pytest.mark.parametrize(
    ("value", "text"), [(0, "0"), (950, "950"), (20_000, "20k"), (2_500_000, "2.5M"), (3e9, "3G")]
)
def test_short_number(value, text):
    assert short_number(value) == text


def region_rows(*revenues: str) -> list[dict]:
    return [
        {"region": f"Region {index}", "orders": 1, "units": 1, "revenue": Decimal(revenue)}
        for index, revenue in enumerate(revenues)
    ]


def test_bars_are_proportional_to_their_values():
    drawing = draw_chart(REPORTS["revenue-by-region"], region_rows("400", "200", "100"))

    widths = [mark.width for mark in drawing.marks]
    assert widths[0] == pytest.approx(2 * widths[1]) == pytest.approx(4 * widths[2])


def test_the_longest_bar_stays_inside_the_plot():
    drawing = draw_chart(REPORTS["revenue-by-region"], region_rows("999.99", "10"))

    assert max(mark.x + mark.width for mark in drawing.marks) <= WIDTH - MARGIN * 2


def test_bars_start_after_their_labels_and_do_not_overlap():
    drawing = draw_chart(REPORTS["revenue-by-region"], region_rows("3", "2", "1"))

    assert all(mark.x == BAR_LABEL_WIDTH for mark in drawing.marks)
    tops = [mark.y for mark in drawing.marks]
    height = drawing.marks[0].height
    assert all(later >= earlier + height for earlier, later in itertools.pairwise(tops))


def test_a_line_chart_puts_larger_values_higher():
    rows = [
        {"month": month, "orders": 1, "units": 1, "revenue": Decimal(value)}
        for month, value in [("2024-01", "100"), ("2024-02", "300"), ("2024-03", "200")]
    ]

    drawing = draw_chart(REPORTS["revenue-by-month"], rows)

    january, february, march = drawing.marks
    assert february.y < march.y < january.y
    assert january.x < february.x < march.x
    assert [mark.label for mark in drawing.marks] == ["2024-01", "2024-02", "2024-03"]


def test_no_rows_draw_no_chart():
    assert draw_chart(REPORTS["revenue-by-region"], []) is None


def test_a_report_without_a_chart_draws_none():
    assert draw_chart(REPORTS["order-lines"], [{"id": 1}]) is None


def test_all_zero_values_still_draw_a_chart():
    drawing = draw_chart(REPORTS["revenue-by-region"], region_rows("0", "0"))

    assert [mark.width for mark in drawing.marks] == [0, 0]

import datetime as dt

import pytest

from reports.filters import DateRange, DateRangeForm


def form(**data: str) -> DateRangeForm:
    return DateRangeForm(data)


def test_no_dates_is_the_whole_range():
    bound = form()

    assert bound.is_valid()
    assert bound.date_range() == DateRange(None, None)


def test_both_dates_are_parsed():
    bound = form(start="2024-03-01", end="2024-03-31")

    assert bound.is_valid()
    assert bound.date_range() == DateRange(dt.date(2024, 3, 1), dt.date(2024, 3, 31))


def test_a_single_day_range_is_valid():
    assert form(start="2024-03-01", end="2024-03-01").is_valid()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": "yesterday"}, "Start must be a date written YYYY-MM-DD."),
        ({"end": "2024-13-01"}, "End must be a date written YYYY-MM-DD."),
        ({"start": "01/03/2024"}, "Start must be a date written YYYY-MM-DD."),
        ({"start": "2024-02-30"}, "Start must be a date written YYYY-MM-DD."),
        ({"start": "1999-12-31"}, "Start must be between 2000-01-01 and 2099-12-31."),
        ({"end": "2100-01-01"}, "End must be between 2000-01-01 and 2099-12-31."),
        ({"start": "2024-05-02", "end": "2024-05-01"}, "The start date must be on or before the end date."),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(data, message):
    bound = form(**data)

    assert not bound.is_valid()
    assert message in bound.error_text()


def test_the_end_date_includes_its_whole_day():
    lookups = DateRange(dt.date(2024, 3, 1), dt.date(2024, 3, 31)).placed_at_filter()

    assert lookups == {
        "placed_at__gte": dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        "placed_at__lt": dt.datetime(2024, 4, 1, tzinfo=dt.UTC),
    }


def test_an_open_range_filters_nothing():
    assert DateRange().placed_at_filter(prefix="order__") == {}


def test_the_lookups_take_a_prefix():
    lookups = DateRange(start=dt.date(2024, 1, 1)).placed_at_filter(prefix="order__")

    assert list(lookups) == ["order__placed_at__gte"]


def test_as_query_round_trips_through_the_form():
    date_range = DateRange(dt.date(2024, 1, 1), dt.date(2024, 6, 30))

    bound = DateRangeForm(date_range.as_query())

    assert bound.is_valid()
    assert bound.date_range() == date_range


@pytest.mark.parametrize(
    ("date_range", "text"),
    [
        (DateRange(), "all dates"),
        (DateRange(dt.date(2024, 1, 1), dt.date(2024, 1, 31)), "2024-01-01 to 2024-01-31"),
        (DateRange(start=dt.date(2024, 1, 1)), "from 2024-01-01"),
        (DateRange(end=dt.date(2024, 1, 31)), "until 2024-01-31"),
    ],
)
def test_a_range_describes_itself(date_range, text):
    assert str(date_range) == text

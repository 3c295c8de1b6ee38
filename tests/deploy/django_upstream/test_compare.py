"""deploy/django_upstream/compare.py: every difference between the runs is found, and the summary counts
both runs."""

from deploy.django_upstream.compare import differences, summary


def test_every_kind_of_difference_is_found():
    stock = {"a": "passed", "b": "passed", "c": "skipped: no bcrypt", "d": "passed", "e": "failed"}
    substituted = {"a": "passed", "b": "error", "c": "skipped: other", "e": "failed", "f": "passed"}

    assert differences(stock, substituted) == [
        ("b", "passed", "error"),
        ("c", "skipped: no bcrypt", "skipped: other"),
        ("d", "passed", "not run"),
        ("f", "not run", "passed"),
    ]


def test_the_summary_counts_each_run_and_the_differences():
    stock = {"a": "passed", "b": "passed", "c": "skipped: no bcrypt"}
    substituted = {"a": "passed", "b": "error", "c": "skipped: no bcrypt"}

    assert summary(stock, substituted) == (
        "3 tests, stock: 2 passed/1 skipped, substituted: 1 error/1 passed/1 skipped, differences: 1"
    )

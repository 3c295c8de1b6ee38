"""The comparisons of report.md: headline figures and each variant against its counterpart."""

from tests.loadtests.summaries import SLEEP_RUN, row, write_results


def test_sleep_headline_gives_the_speed_up_and_the_share_of_the_ceiling(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN)

    assert "1,500 vs 29.5 req/s = **50.8x**." in report
    # Ceiling: min(200 / 0.1 s = 2000, Uvicorn's hello 1200) = 1200; 1500 / 1200 = 125 %.
    assert "= 1,200 req/s; reached **125%**." in report


def test_the_report_states_figures_without_a_verdict(tmp_path):
    rows = [
        row("gunicorn-sync", "sleep", "sync", 200, 29.5),
        row("uvicorn", "sleep", "async", 200, 200.0),
        row("uvicorn", "hello", "async", 200, 1200.0),
    ]

    report = write_results(tmp_path, rows)

    assert "= **6.8x**." in report
    assert "reached **17%**." in report
    for verdict in ("target", ": met", "NOT met", "issue"):
        assert verdict not in report


def test_hello_headline_names_the_interface_ahead_and_by_how_much(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN)

    assert "WSGI ahead by 2.00x" in report


def test_middleware_cost_is_the_difference_in_cpu_per_request(tmp_path):
    rows = [
        row("gunicorn-sync", "hello", "sync", 20, 1000.0, server_cpu_ms_per_request=0.70),
        row(
            "gunicorn-sync",
            "hello",
            "sync",
            20,
            1400.0,
            server_cpu_ms_per_request=0.50,
            variant="no-middleware",
        ),
        row("uvicorn", "hello", "async", 20, 400.0, server_cpu_ms_per_request=2.40),
        row("uvicorn", "hello", "async", 20, 1600.0, server_cpu_ms_per_request=0.60, variant="no-middleware"),
    ]

    report = write_results(tmp_path, rows)

    assert (
        "| hello | gunicorn-sync | wsgi | sync | 20 | 1,000 | 1,400 | 1.40x | 0.70 | 0.50 | +0.20 |" in report
    )
    assert "| hello | uvicorn | asgi | async | 20 | 400 | 1,600 | 4.00x | 2.40 | 0.60 | +1.80 |" in report
    assert "**ASGI: 1.80 ms of server CPU per request**" in report
    assert "**WSGI: 0.20 ms of server CPU per request**" in report


def test_the_sleep_probe_without_middleware_is_set_against_the_same_concurrency(tmp_path):
    rows = [
        row("uvicorn", "sleep", "async", 50, 300.0, server_cpu_ms_per_request=3.0),
        row("uvicorn", "sleep", "async", 200, 320.0, server_cpu_ms_per_request=3.1),
        row("uvicorn", "sleep", "async", 200, 1600.0, server_cpu_ms_per_request=0.6, variant="no-middleware"),
    ]

    report = write_results(tmp_path, rows)

    assert "| sleep | uvicorn | asgi | async | 200 | 320 | 1,600 | 5.00x | 3.10 | 0.60 | +2.50 |" in report


def test_the_blocking_neighbour_is_set_against_async_sleep_alone(tmp_path):
    rows = [
        row("uvicorn", "sleep", "async", 10, 98.0, p50_ms=100.0, p99_ms=120.0),
        row("uvicorn", "sleep-next-to-blocking", "async", 10, 60.0, p50_ms=110.0, p99_ms=310.0),
    ]

    report = write_results(tmp_path, rows)

    assert "p50 100 → 110 ms, p99 120 → 310 ms, 98.0 → 60.0 req/s" in report


STACK_RUN = [
    row("gunicorn-sync", "hello", "sync", 20, 1800.0, server_cpu_ms_per_request=0.55),
    row("uvicorn", "hello", "async", 20, 500.0, server_cpu_ms_per_request=1.89, variant="stock"),
    row("uvicorn", "hello", "async", 20, 1600.0, server_cpu_ms_per_request=0.563, variant="async-native"),
    row("daphne", "hello", "async", 20, 400.0, server_cpu_ms_per_request=2.0, variant="stock"),
    row("daphne", "hello", "async", 20, 600.0, server_cpu_ms_per_request=1.5, variant="async-native"),
    row("daphne", "sleep", "async", 200, 300.0, server_cpu_ms_per_request=3.0, variant="stock"),
]


def test_the_two_asgi_stacks_are_compared_per_server_as_ratios(tmp_path):
    report = write_results(tmp_path, STACK_RUN)

    assert "| uvicorn | hello | async | 20 | 500 | 1,600 | 3.20x | 1,890 | 563 | 0.30x |" in report
    assert "| daphne | hello | async | 20 | 400 | 600 | 1.50x | 2,000 | 1,500 | 0.75x |" in report


def test_with_two_rounds_the_stack_table_gives_means_and_each_rounds_ratio(tmp_path):
    rows = [
        row("uvicorn", "hello", "async", 20, 500.0, server_cpu_ms_per_request=2.0, variant="stock"),
        row("uvicorn", "hello", "async", 20, 1000.0, server_cpu_ms_per_request=1.0, variant="async-native"),
        row("uvicorn", "hello", "async", 20, 300.0, server_cpu_ms_per_request=2.0, variant="stock", round=2),
        row(
            "uvicorn",
            "hello",
            "async",
            20,
            1200.0,
            server_cpu_ms_per_request=0.5,
            variant="async-native",
            round=2,
        ),
    ]

    report = write_results(tmp_path, rows)

    means = "| uvicorn | hello | async | 20 | 400 | 1,100 | 2.75x (2.00x, 4.00x) | 2,000 | 750 |"
    assert f"{means} 0.38x (0.50x, 0.25x) |" in report


def test_a_stack_measured_only_once_is_left_out_of_the_stack_table(tmp_path):
    report = write_results(tmp_path, STACK_RUN)

    assert "| daphne | sleep |" not in report


def test_without_the_stack_variants_the_report_says_so(tmp_path):
    report = write_results(tmp_path, SLEEP_RUN)

    assert "it has no runs of the `stock` and `async-native` variants" in report

"""What the WebSocket benchmarks share: the sender's pace and the latency figures (no servers)."""

import time

from loadtests.clients import latency_percentiles, paced


def test_latency_percentiles_are_the_median_p99_and_max_in_milliseconds():
    latencies = [number / 1000 for number in range(100, 0, -1)]  # 1 ms to 100 ms, unsorted

    assert latency_percentiles(latencies) == (50.5, 100.0, 100.0)


def test_latency_percentiles_are_zero_without_a_delivery():
    assert latency_percentiles([]) == (0.0, 0.0, 0.0)


async def test_paced_yields_rate_times_duration_sends_spread_over_the_duration():
    started = time.monotonic()

    numbers = [number async for number in paced(rate=50, duration=0.1)]

    assert numbers == [0, 1, 2, 3, 4]
    assert time.monotonic() - started >= 4 / 50

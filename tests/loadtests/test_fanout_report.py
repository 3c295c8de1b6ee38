"""The fan-out benchmark's report: medians over the rounds, against the floor (no servers)."""

from loadtests.fanout_report import Run, summary_rows


def run(kind: str, round_: int, us_per_delivery: float) -> Run:
    return Run(
        kind,
        "RedisPubSubChannelLayer",
        100,
        round_,
        expected=1000,
        received=1000,
        server_cpu_us_per_delivery=us_per_delivery,
    )


def test_cpu_per_delivery_is_a_median_over_the_rounds_and_a_multiple_of_the_floors():
    runs = [run("floor", 1, 20.0), run("floor", 2, 30.0), run("chat", 1, 100.0), run("chat", 2, 150.0)]

    rows = {row["kind"]: row for row in summary_rows(runs)}

    assert rows["floor"]["server_cpu_us_per_delivery"] == 25.0
    assert rows["chat"]["server_cpu_us_per_delivery"] == 125.0
    assert (rows["floor"]["times_floor"], rows["chat"]["times_floor"]) == (1.0, 5.0)


def test_the_floor_row_names_no_channel_layer():
    rows = summary_rows([run("floor", 1, 20.0), run("plain", 1, 200.0)])

    assert [(row["kind"], row["layer"]) for row in rows] == [
        ("plain", "RedisPubSubChannelLayer"),
        ("floor", "none"),
    ]


def test_deliveries_that_did_not_arrive_count_as_lost():
    late = Run("chat", "RedisPubSubChannelLayer", 100, 1, expected=1000, received=990)

    assert late.lost == 10

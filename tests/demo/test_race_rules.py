"""The race's rules (demo/race_rules.py): what a client may ask for, and the limits that bound it."""

import pytest

from demo.race_rules import (
    LANE_GROUPS,
    MAX_REQUESTS,
    MAX_SERIAL_MS_PER_GROUP,
    BadRace,
    predicted_ms,
    race_from,
)

ALL_GROUPS = list(LANE_GROUPS)


def frame(**changes: object) -> dict:
    return {"type": "race", "probe": "sleep", "params": {"ms": 500}, "n": 50, "groups": ALL_GROUPS, **changes}


def test_the_page_default_race_is_accepted_with_every_group():
    race = race_from(frame())

    assert race.n == 50
    assert race.groups == tuple(ALL_GROUPS)
    assert race.order == "one-by-one"
    assert race.path("def-wsgi") == "/demo/sync/sleep/?ms=500"
    assert race.path("async-asgi") == "/demo/async/sleep/?ms=500"
    assert race.path("blocking-asgi") == "/demo/async/blocking/?ms=500"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"probe": "rm -rf"}, "probe must be one of"),
        ({"probe": None}, "probe must be one of"),
        ({"n": 0}, "n must be a whole number from 1 to 100"),
        ({"n": MAX_REQUESTS + 1}, "n must be a whole number from 1 to 100"),
        ({"n": "5; drop"}, "n must be a whole number"),
        ({"n": 2.5}, "n must be a whole number"),
        ({"n": None}, "n must be a whole number"),
        ({"params": {"ms": 10_001}}, "ms must be a whole number from 0 to 10000"),
        ({"params": {"ms": -1}}, "ms must be a whole number"),
        ({"params": {"ms": [1]}}, "params must be an object"),
        ({"params": "ms=5"}, "params must be an object"),
        ({"params": {"url": "http://example.com/"}}, "takes no parameter 'url'"),
        ({"groups": []}, "groups must be a non-empty list"),
        ({"groups": "def-wsgi"}, "groups must be a non-empty list"),
        ({"groups": ["def-wsgi", "http://evil.example/"]}, "groups must be a non-empty list"),
        ({"order": "random"}, "order must be"),
        ({"probe": "hello", "params": {}}, "the blocking lanes race only the sleep probe"),
        ({"n": 100, "params": {"ms": 500}}, f"n x ms must be at most {MAX_SERIAL_MS_PER_GROUP}"),
        (
            {"probe": "fanout", "params": {"n": 50, "ms": 201}, "groups": ["async-asgi"]},
            "n x ms must be at most",
        ),
    ],
)
def test_a_bad_race_is_refused_with_a_reason(changes, message):
    with pytest.raises(BadRace) as refused:
        race_from(frame(**changes))

    assert message in refused.value.detail


def test_a_race_is_bounded_by_what_one_worker_would_take_to_serve_it_in_turn():
    race_from(frame(n=60, params={"ms": 500}))  # 30 s in turn: the limit itself

    with pytest.raises(BadRace):
        race_from(frame(n=61, params={"ms": 500}))


def test_the_fanout_limit_counts_the_def_views_waits_one_after_another():
    race = race_from(
        frame(probe="fanout", params={"n": 5, "ms": 100}, n=50, groups=["def-wsgi", "async-asgi"])
    )

    assert race.wait_ms("def-wsgi") == 500
    assert race.wait_ms("async-asgi") == 100
    with pytest.raises(BadRace):
        race_from(frame(probe="fanout", params={"n": 5, "ms": 200}, n=50, groups=["async-asgi"]))


def test_probes_that_do_not_wait_draw_no_littles_law_line():
    race = race_from(frame(probe="cpu", params={"ms": 10}, groups=["def-wsgi"]))

    assert race.wait_ms("def-wsgi") is None
    assert race.path("def-wsgi") == "/demo/sync/cpu/?ms=10"


def test_a_group_asked_twice_is_raced_once():
    race = race_from(frame(groups=["async-asgi", "async-asgi", "def-wsgi"]))

    assert race.groups == ("async-asgi", "def-wsgi")


def test_littles_law_gives_turns_of_the_worker_pool_or_one_wait_without_a_pool():
    assert predicted_ms(50, 500, slots=5) == 5_000
    assert predicted_ms(50, 500, slots=2) == 12_500
    assert predicted_ms(51, 500, slots=5) == 5_500
    assert predicted_ms(50, 500, slots=None) == 500

"""What the harness plans to run: probes, variants, runs and server starts (no servers started)."""

from loadtests.plan import PROBES, QUICK_PROBES, QUICK_SERVERS, VARIANTS, Variant, plan, server_sessions
from loadtests.servers import server_configs

CONFIGS = server_configs(threads=4)


def runs_for(servers: list[str], probes: list[str], users=None, quick=False, variants=("default",)):
    return plan(
        [CONFIGS[name] for name in servers], probes, users, quick, [VARIANTS[name] for name in variants]
    )


def test_every_server_configuration_is_compared():
    assert set(CONFIGS) == {
        "gunicorn-sync",
        "gunicorn-gthread",
        "uvicorn",
        "gunicorn-uvicorn",
        "gunicorn-asgi",
        "daphne",
        "granian-wsgi",
        "granian-asgi",
    }


def test_quick_mode_runs_two_servers_and_two_probes_both_ways():
    runs = runs_for(QUICK_SERVERS, QUICK_PROBES, quick=True)

    assert {run.server.name for run in runs} == {"gunicorn-sync", "uvicorn"}
    assert {run.probe.key for run in runs} == {"hello", "sleep"}
    assert {run.view_kind for run in runs} == {"sync", "async"}
    assert len(runs) == 2 * 2 * 2


def test_the_full_plan_sweeps_sleep_up_to_200_users_on_every_server():
    runs = runs_for(list(CONFIGS), ["sleep"])

    for name in CONFIGS:
        assert max(run.users for run in runs if run.server.name == name) == 200


def test_the_blocking_mistake_is_measured_on_asgi_servers_only():
    runs = runs_for(list(CONFIGS), ["blocking", "sleep-next-to-blocking"])

    assert runs
    assert {run.server.interface for run in runs} == {"asgi"}
    assert {run.view_kind for run in runs} == {"async"}


def test_the_neighbour_scenario_adds_one_blocking_user():
    (run,) = runs_for(["uvicorn"], ["sleep-next-to-blocking"])

    assert run.probe.extra_user_classes == ("BlockingNeighbourUser",)


def test_users_option_replaces_every_probes_levels():
    runs = runs_for(["uvicorn"], ["hello", "sleep"], users=[3, 7])

    assert {run.users for run in runs} == {3, 7}


def test_a_server_restarts_without_middleware_for_the_middleware_question():
    runs = runs_for(["gunicorn-sync", "uvicorn"], ["hello", "sleep"], variants=("default", "no-middleware"))

    sessions = [(session.server.name, session.variant.name) for session in server_sessions(runs)]

    assert sessions == [
        ("gunicorn-sync", "default"),
        ("gunicorn-sync", "no-middleware"),
        ("uvicorn", "default"),
        ("uvicorn", "no-middleware"),
    ]


def test_without_middleware_hello_runs_at_20_users_and_async_sleep_at_200():
    runs = runs_for(["gunicorn-sync", "uvicorn"], list(PROBES), variants=("no-middleware",))

    measured = {(run.server.name, run.probe.key, run.view_kind, run.users) for run in runs}
    assert measured == {
        ("gunicorn-sync", "hello", "sync", 20),
        ("gunicorn-sync", "hello", "async", 20),
        ("uvicorn", "hello", "sync", 20),
        ("uvicorn", "hello", "async", 20),
        ("uvicorn", "sleep", "async", 200),
    }


def test_the_two_asgi_stacks_alternate_in_two_rounds_on_asgi_servers_only():
    runs = runs_for(
        ["gunicorn-sync", "uvicorn", "daphne"], ["hello", "sleep"], variants=("stock", "async-native")
    )

    sessions = [
        (session.server.name, session.variant.name, session.round) for session in server_sessions(runs)
    ]

    assert sessions == [
        ("uvicorn", "stock", 1),
        ("uvicorn", "async-native", 1),
        ("uvicorn", "stock", 2),
        ("uvicorn", "async-native", 2),
        ("daphne", "stock", 1),
        ("daphne", "async-native", 1),
        ("daphne", "stock", 2),
        ("daphne", "async-native", 2),
    ]


def test_a_single_round_variant_starts_once_among_repeated_ones():
    runs = runs_for(["uvicorn"], ["hello"], variants=("default", "stock", "async-native"))

    sessions = [(session.variant.name, session.round) for session in server_sessions(runs)]

    assert sessions == [("default", 1), ("stock", 1), ("async-native", 1), ("stock", 2), ("async-native", 2)]


def test_each_asgi_stack_is_selected_by_its_environment_switch():
    assert VARIANTS["stock"].env == {"DJANGO_ASGI_STACK": "stock"}
    assert VARIANTS["async-native"].env == {"DJANGO_ASGI_STACK": "async-native"}


def test_both_asgi_stacks_measure_the_same_runs():
    def measured(variant: str) -> set:
        runs = runs_for(["uvicorn"], list(PROBES), variants=(variant,))
        return {(run.probe.key, run.view_kind, run.users) for run in runs}

    assert (
        measured("stock")
        == measured("async-native")
        == {
            ("hello", "sync", 20),
            ("hello", "async", 20),
            ("sleep", "async", 200),
        }
    )


def test_a_new_variant_is_a_name_an_environment_and_its_probes():
    variant = Variant("access-log-off", {"ACCESS_LOG": "0"}, (PROBES["hello"],))

    runs = plan([CONFIGS["gunicorn-sync"], CONFIGS["uvicorn"]], ["hello"], [5], False, [variant])

    assert {(run.server.name, run.variant.name) for run in runs} == {("uvicorn", "access-log-off")}


def test_variant_runs_and_rounds_are_named_apart_from_the_default_ones():
    runs = runs_for(["uvicorn"], ["hello"], users=[20], variants=("default", "stock"))

    slugs = {run.slug for run in runs if run.view_kind == "async"}

    assert slugs == {
        "uvicorn__hello__async__u20",
        "uvicorn__stock__hello__async__u20",
        "uvicorn__stock__r2__hello__async__u20",
    }


def test_sync_servers_know_their_threads_for_the_littles_law_bound():
    configs = server_configs(threads=6)

    assert configs["gunicorn-sync"].threads_per_worker == 1
    assert configs["gunicorn-gthread"].threads_per_worker == 6
    assert configs["gunicorn-gthread"].env["GUNICORN_CMD_ARGS"] == "--threads 6"
    assert configs["granian-wsgi"].env["GRANIAN_BLOCKING_THREADS"] == "6"
    assert configs["uvicorn"].threads_per_worker is None

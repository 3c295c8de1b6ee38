"""What the harness plans to run, and the options that choose it (no servers started)."""

import pytest

from loadtests.compare import (
    PROBES,
    QUICK_PROBES,
    QUICK_SERVERS,
    parse_arguments,
    plan,
    read_stats,
    server_sessions,
)
from loadtests.servers import server_configs

CONFIGS = server_configs(threads=4)


def runs_for(servers: list[str], probes: list[str], users=None, quick=False):
    return plan([CONFIGS[name] for name in servers], [PROBES[name] for name in probes], users, quick)


def test_every_configuration_the_issue_names_is_compared():
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
    runs = runs_for(
        ["gunicorn-sync", "uvicorn"], ["hello", "hello-no-middleware", "sleep", "sleep-no-middleware"]
    )

    sessions = [(server.name, middleware) for server, middleware, _ in server_sessions(runs)]

    assert sessions == [
        ("gunicorn-sync", "full"),
        ("gunicorn-sync", "none"),
        ("uvicorn", "full"),
        ("uvicorn", "none"),
    ]


def test_sync_servers_know_their_threads_for_the_littles_law_bound():
    configs = server_configs(threads=6)

    assert configs["gunicorn-sync"].threads_per_worker == 1
    assert configs["gunicorn-gthread"].threads_per_worker == 6
    assert configs["gunicorn-gthread"].env["GUNICORN_CMD_ARGS"] == "--threads 6"
    assert configs["granian-wsgi"].env["GRANIAN_BLOCKING_THREADS"] == "6"
    assert configs["uvicorn"].threads_per_worker is None


def test_options_pick_servers_probes_users_and_duration():
    options = parse_arguments(
        ["--servers", "uvicorn,daphne", "--probes", "db", "--users", "5,50", "--duration", "9"]
    )

    assert options.servers == ["uvicorn", "daphne"]
    assert options.probes == ["db"]
    assert options.users == [5, 50]
    assert options.duration == 9


def test_quick_defaults():
    options = parse_arguments(["--quick"])

    assert options.servers == QUICK_SERVERS
    assert options.probes == QUICK_PROBES
    assert options.duration == 2


@pytest.mark.parametrize(
    "arguments",
    [
        ["--servers", "tomcat"],
        ["--probes", "hello,nap"],
        ["--users", "ten"],
        ["--users", "0,10"],
        ["--duration", "0"],
        ["--duration", "soon"],
        ["--threads", "0"],
        ["--workers", "0"],
    ],
)
def test_bad_options_are_refused(arguments, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_arguments(arguments)

    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_reading_locust_stats_needs_the_measured_row(tmp_path):
    stats = tmp_path / "run_stats.csv"
    stats.write_text("Type,Name,Request Count\nGET,/demo/sync/hello/,10\n,Aggregated,10\n")

    assert read_stats(stats, "/demo/sync/hello/")["Request Count"] == "10"
    with pytest.raises(LookupError):
        read_stats(stats, "/demo/async/hello/")

"""The harness's command-line options (no servers started)."""

import pytest

from loadtests.compare import parse_arguments, server_environment
from loadtests.plan import QUICK_PROBES, QUICK_SERVERS, VARIANTS


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
    assert options.variants == ["default"]
    assert options.duration == 2


def test_the_full_run_measures_every_variant():
    options = parse_arguments([])

    assert options.variants == list(VARIANTS)
    assert {"default", "no-middleware", "stock", "async-native"} <= set(options.variants)


def test_variants_are_chosen_by_name():
    options = parse_arguments(["--variants", "stock,async-native"])

    assert options.variants == ["stock", "async-native"]


@pytest.mark.parametrize(
    "arguments",
    [
        ["--servers", "tomcat"],
        ["--probes", "hello,nap"],
        ["--variants", "turbo"],
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


def test_a_variant_switch_set_in_the_shell_never_reaches_a_server(monkeypatch):
    monkeypatch.setenv("DJANGO_ASGI_STACK", "stock")
    monkeypatch.setenv("DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE", "1")

    env = server_environment(WEB_CONCURRENCY="3")

    assert "DJANGO_ASGI_STACK" not in env
    assert "DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE" not in env
    assert env["WEB_CONCURRENCY"] == "3"

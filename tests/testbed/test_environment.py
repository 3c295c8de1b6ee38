"""The child environment: this process's, minus what belongs to the parent alone."""

import pytest

from testbed.environment import PARENT_ONLY, base_environment
from testbed.processes import VENV_BIN


@pytest.mark.parametrize("name", sorted(PARENT_ONLY))
def test_a_parent_only_variable_does_not_reach_the_child(monkeypatch, name):
    monkeypatch.setenv(name, "from-the-parent")

    assert name not in base_environment()


@pytest.mark.parametrize("name", ["PYTEST_XDIST_WORKER", "GUNICORN_CMD_ARGS", "GRANIAN_THREADS"])
def test_a_parent_only_prefix_does_not_reach_the_child(monkeypatch, name):
    monkeypatch.setenv(name, "from-the-parent")

    assert name not in base_environment()


def test_the_server_interface_of_a_parent_that_imported_asgi_does_not_reach_the_child(monkeypatch):
    monkeypatch.setenv("SERVER_INTERFACE", "asgi")

    assert "SERVER_INTERFACE" not in base_environment(DATABASE_URL="sqlite:///x")


def test_other_variables_reach_the_child(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-the-parent")

    assert base_environment()["DATABASE_URL"] == "sqlite:///from-the-parent"


def test_overrides_win_even_over_parent_only_names():
    env = base_environment(GUNICORN_WORKER_CLASS="gthread", WEB_CONCURRENCY="3")

    assert (env["GUNICORN_WORKER_CLASS"], env["WEB_CONCURRENCY"]) == ("gthread", "3")


def test_the_virtualenvs_tools_come_first_on_the_path():
    assert base_environment()["PATH"].split(":")[0] == str(VENV_BIN)


def test_python_output_is_unbuffered_so_logs_arrive_as_they_happen():
    assert base_environment()["PYTHONUNBUFFERED"] == "1"

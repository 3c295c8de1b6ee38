"""A configuration the settings refuse stops every way of starting the project with one line on
stderr that names the variable, and no traceback: `manage.py` and each start script, for real, in
a child process (myproject/preflight.py)."""

import os
import signal
import subprocess
import sys

import pytest

from testbed.environment import base_environment
from testbed.processes import ROOT, free_port

pytestmark = pytest.mark.live

# A refused start is over in a second or two; a server that started anyway is stopped after this.
REFUSAL_SECONDS = 60
# The message, and room for a wrapped line: nothing like a traceback.
MOST_STDERR_LINES = 3

BAD_CONFIGURATIONS = {
    "no secret key with debug off": ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY is not set"),
    "a database URL of another engine": ({"DATABASE_URL": "mysql://user@db.example.com/app"}, "DATABASE_URL"),
    "a database URL with a bad port": ({"DATABASE_URL": "postgres://user@host:notaport/app"}, "DATABASE_URL"),
    "a Redis URL of another scheme": ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
    "a Redis URL with a bad port": ({"REDIS_URL": "redis://127.0.0.1:notaport/0"}, "REDIS_URL"),
    "a sentinel without a port": ({"REDIS_SENTINELS": "127.0.0.1"}, "REDIS_SENTINELS"),
    "a number that is not one": ({"DJANGO_HSTS_SECONDS": "soon"}, "DJANGO_HSTS_SECONDS"),
}

ENTRY_POINTS = {
    "manage.py": ([sys.executable, "manage.py", "check"], {}),
    "Gunicorn": (["deploy/start-wsgi.sh"], {}),
    "Uvicorn": (["deploy/start-asgi.sh"], {}),
    "Daphne": (["deploy/start-daphne.sh"], {}),
    "Granian WSGI": (["deploy/start-granian.sh"], {"GRANIAN_INTERFACE": "wsgi"}),
    "Granian ASGI": (["deploy/start-granian.sh"], {"GRANIAN_INTERFACE": "asgi"}),
    "Gunicorn asgi worker": (["deploy/start-gunicorn-asgi.sh"], {}),
    "the race's driver": (["deploy/start-race-driver.sh"], {"DJANGO_DEMO": "1"}),
}


def environment(**variables: str | None) -> dict[str, str]:
    """A production-like start (debug off, a secret key) with only the configuration given."""
    env = base_environment(WSGI_PORT=str(free_port()), ASGI_PORT=str(free_port()), WEB_CONCURRENCY="1")
    for name in list(env):
        if name.startswith("REDIS_") or name in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}:
            env.pop(name)
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def start(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=REFUSAL_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{command} started instead of refusing:\n{stderr[-2000:]}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
@pytest.mark.parametrize("configuration", BAD_CONFIGURATIONS)
def test_a_refused_configuration_prints_one_line_naming_the_variable(configuration, entry_point):
    variables, message = BAD_CONFIGURATIONS[configuration]
    command, entry_point_variables = ENTRY_POINTS[entry_point]

    result = start(command, environment(**entry_point_variables, **variables))

    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) <= MOST_STDERR_LINES, result.stderr


def test_manage_py_runs_with_a_usable_configuration():
    result = start([sys.executable, "manage.py", "check"], environment())

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_refusal_that_only_the_asgi_settings_make_is_caught_before_the_asgi_server_starts():
    # Under ASGI the database pool exists, and the export limit must stay below its size.
    env = environment(DATABASE_URL="postgres://postgres@127.0.0.1:5432/test", REPORTS_EXPORT_CONCURRENCY="10")

    result = start(["deploy/start-asgi.sh"], env)

    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert "REPORTS_EXPORT_CONCURRENCY (10) must be below" in result.stderr


@pytest.mark.parametrize(("demo", "status"), [("0", 3), ("1", 0)])
def test_make_run_asks_the_preflight_whether_the_demo_needs_the_race_driver(demo, status):
    command = [sys.executable, "-m", "myproject.preflight", "asgi", "--race-driver"]
    result = start(command, environment(DJANGO_DEMO=demo))

    assert result.returncode == status, result.stderr
    assert ("The demo is off" in result.stderr) is (status == 3)

"""`check --deploy` under the async-native stack runs Django's security checks as on the stock one:
it is clean with the production example, and still catches what those checks exist for."""

import subprocess
import sys

import pytest

from testbed.environment import base_environment
from testbed.processes import ROOT
from tests.myproject.test_settings import production_environment


def check_deploy(**environment: str) -> subprocess.CompletedProcess:
    env = base_environment(
        DJANGO_SETTINGS_MODULE="myproject.settings", SERVER_INTERFACE="asgi", **production_environment()
    )
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("stack", ["stock", "async-native"])
def test_the_production_example_passes_every_deployment_check(stack):
    result = check_deploy(DJANGO_ASGI_STACK=stack)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("stack", ["stock", "async-native"])
def test_the_hsts_check_runs(stack):
    result = check_deploy(DJANGO_ASGI_STACK=stack, DJANGO_HSTS_SECONDS="0")

    assert "security.W004" in result.stdout + result.stderr

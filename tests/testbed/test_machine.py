"""Machine facts: what a measurement names about the code and the packages it ran."""

import subprocess
from importlib.metadata import version

import pytest

from testbed.machine import git_commit, machine_facts, package_versions
from testbed.processes import ROOT


def test_package_versions_name_the_installed_version():
    assert package_versions(["Django"]) == {"Django": version("Django")}


def test_package_versions_say_when_a_package_is_missing():
    assert package_versions(["no-such-package-here"]) == {"no-such-package-here": "not installed"}


@pytest.mark.live  # runs git
def test_git_commit_is_the_checked_out_commit():
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout

    assert head.startswith(git_commit())
    assert len(git_commit()) >= 7


@pytest.mark.live  # platform.platform() runs `uname -p`
def test_machine_facts_count_the_cores_and_memory():
    facts = machine_facts()

    assert facts["cores"] >= 1
    assert facts["memory_gb"] > 0
    assert len(facts["load_average"]) == 3

"""The export slots themselves: they count across processes, and a holder that dies cannot keep one."""

import signal
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY

from reports.export_slots import export_slot_acquire
from testbed.environment import base_environment
from testbed.processes import ROOT, wait_until

# The tests with a holder start a Python process.
pytestmark = pytest.mark.live

HOLD_A_SLOT = """
import time, django
django.setup()
from reports.export_slots import export_slot_acquire
slot = export_slot_acquire("wsgi")
print("held" if slot else "none", flush=True)
time.sleep(60)
"""


@pytest.fixture
def one_slot(settings):
    settings.REPORTS_EXPORT_CONCURRENCY = 1


@pytest.fixture
def holder() -> subprocess.Popen:
    """Another process of the same process group (a sibling worker) holding the stack's one slot."""
    env = base_environment(DJANGO_SETTINGS_MODULE="myproject.settings", REPORTS_EXPORT_CONCURRENCY="1")
    command = [sys.executable, "-c", HOLD_A_SLOT]
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout.readline().strip() == "held"
        yield process
        process.kill()


def test_a_slot_held_by_another_worker_process_is_not_free(one_slot, holder):
    assert export_slot_acquire("wsgi") is None


def test_the_other_interface_has_slots_of_its_own(one_slot, holder):
    slot = export_slot_acquire("asgi")

    assert slot is not None
    slot.release()


def test_a_worker_killed_mid_export_cannot_keep_its_slot(one_slot, holder):
    holder.send_signal(signal.SIGKILL)  # no cleanup code runs: only the kernel can let go
    holder.wait(10)

    wait_until(lambda: export_slot_acquire("wsgi") is not None, 5, "the dead holder's slot")


def test_a_released_slot_can_be_taken_again(one_slot):
    first = export_slot_acquire("wsgi")
    assert export_slot_acquire("wsgi") is None

    first.release()

    assert export_slot_acquire("wsgi") is not None


def test_a_held_slot_counts_in_metrics_until_released(one_slot):
    def in_use() -> float:
        return REGISTRY.get_sample_value("reports_export_slots_in_use", {"interface": "wsgi"}) or 0.0

    before = in_use()
    slot = export_slot_acquire("wsgi")
    held = in_use()

    slot.release()

    assert held == before + 1
    assert in_use() == before

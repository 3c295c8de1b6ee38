"""ManagedProcess: a child in a process group of its own, stopped whole, pinned where asked."""

import signal
import socket
import sys

import psutil
import pytest

from testbed.processes import ManagedProcess, free_port, wait_until

# A parent that starts a grandchild and waits: stopping the parent alone would leave the grandchild.
PARENT_AND_CHILD = [
    sys.executable,
    "-c",
    "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
    " print('started', flush=True); time.sleep(60)",
]


def test_free_port_can_be_bound_on_loopback():
    port = free_port()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_wait_until_names_what_it_waited_for_when_it_times_out():
    with pytest.raises(TimeoutError, match="the impossible"):
        wait_until(lambda: False, timeout=0.2, what="the impossible", interval=0.05)


def test_wait_until_returns_once_the_condition_holds():
    answers = iter([False, False, True])

    wait_until(lambda: next(answers), timeout=5, what="the third poll", interval=0.01)


def group_of(process: ManagedProcess) -> list[psutil.Process]:
    wait_until(lambda: len(psutil.Process(process.pid).children()) == 1, 10, "the grandchild")
    return [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [process for process in processes if process.is_running() and process.status() != "zombie"]


@pytest.mark.live
def test_stop_ends_the_process_and_everything_it_started(tmp_path):
    process = ManagedProcess("parent", PARENT_AND_CHILD, {}, tmp_path)
    process.start()
    members = group_of(process)

    code = process.stop()

    assert code == -signal.SIGTERM
    # The signal reaches the grandchild at once, but it may take the kernel a moment to end it;
    # one left alive would sleep on for a minute, far past this wait.
    wait_until(lambda: not alive(members), 5, "every process of the group to end")
    assert not process.running()


@pytest.mark.live
def test_output_goes_to_the_log_file(tmp_path):
    process = ManagedProcess("parent", PARENT_AND_CHILD, {}, tmp_path)
    process.start()
    try:
        wait_until(lambda: "started" in process.log(), 10, "the parent's output")
    finally:
        process.stop()

    assert process.log_path.parent == tmp_path


@pytest.mark.live
def test_start_after_stop_starts_a_new_process(tmp_path):
    process = ManagedProcess("parent", PARENT_AND_CHILD, {}, tmp_path)
    process.start()
    first = process.pid
    process.stop()

    process.start()
    try:
        assert process.running()
        assert process.pid != first
    finally:
        process.stop()


@pytest.mark.live
def test_pinning_keeps_the_process_and_its_children_on_the_cores_given(tmp_path):
    core = max(psutil.Process().cpu_affinity())
    process = ManagedProcess("parent", PARENT_AND_CHILD, {}, tmp_path, cores={core})
    process.start()
    try:
        members = group_of(process)

        assert {tuple(member.cpu_affinity()) for member in members} == {(core,)}
    finally:
        process.stop()


@pytest.mark.live
def test_cpu_seconds_count_the_children_too(tmp_path):
    busy_child = [
        sys.executable,
        "-c",
        "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'while True: pass']);"
        " time.sleep(60)",
    ]
    process = ManagedProcess("parent", busy_child, {}, tmp_path)
    process.start()
    try:
        # The parent only sleeps: CPU time beyond its own start-up is the spinning child's.
        wait_until(lambda: process.cpu_seconds() > 0.5, 20, "the child's CPU time")
        assert psutil.Process(process.pid).cpu_times().user < 0.5
    finally:
        process.stop()

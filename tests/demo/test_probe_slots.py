"""The demo's probe slots in one process: how many there are, taking and giving one back, and the
count the metrics read. tests/demo/test_probe_slots_live.py holds them against real servers."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from demo import probe_slots
from demo.probe_slots import probe_slot_acquire, probe_slots_in_use


@pytest.fixture(autouse=True)
def own_slots_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(probe_slots, "SLOTS_DIRECTORY", tmp_path / "slots")


@pytest.fixture
def four_workers(monkeypatch, settings):
    settings.DEMO_PROBE_SLOTS = None
    monkeypatch.setenv("WEB_CONCURRENCY", "4")


def test_a_stack_has_half_its_workers_as_slots(four_workers):
    assert probe_slots.probe_slots("asgi") == 2


def test_a_stack_of_one_worker_still_has_one_slot(monkeypatch, settings):
    settings.DEMO_PROBE_SLOTS = None
    monkeypatch.setenv("WEB_CONCURRENCY", "1")

    assert probe_slots.probe_slots("asgi") == 1


def test_the_setting_overrides_the_half_and_zero_means_no_bound(settings):
    settings.DEMO_PROBE_SLOTS = 3
    assert probe_slots.probe_slots("wsgi") == 3
    settings.DEMO_PROBE_SLOTS = 0
    assert probe_slots.probe_slots("wsgi") is None


def test_past_the_slots_there_is_none_until_one_is_given_back(four_workers):
    held = [probe_slot_acquire("asgi"), probe_slot_acquire("asgi")]

    assert all(held)
    assert probe_slot_acquire("asgi") is None
    held[0].release()  # type: ignore[union-attr]
    assert probe_slot_acquire("asgi") is not None


def test_the_count_in_use_is_what_is_held(four_workers):
    assert probe_slots_in_use("asgi") == 0
    slot = probe_slot_acquire("asgi")

    assert probe_slots_in_use("asgi") == 1
    slot.release()  # type: ignore[union-attr]
    assert probe_slots_in_use("asgi") == 0


def test_a_probe_past_the_bound_gets_503_with_retry_after(settings):
    settings.DEMO_PROBE_SLOTS = 1
    held = probe_slot_acquire("wsgi")

    response = Client().get("/demo/sync/sleep/?ms=0")

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "probe_slots_full"
    held.release()  # type: ignore[union-attr]
    assert Client().get("/demo/sync/sleep/?ms=0").status_code == 200


def test_a_probe_that_holds_no_capacity_takes_no_slot(settings):
    # Under WSGI hello is a short request like any page; it never waits for a slot.
    settings.DEMO_PROBE_SLOTS = 1
    held = probe_slot_acquire("wsgi")

    assert Client().get("/demo/sync/hello/").status_code == 200
    held.release()  # type: ignore[union-attr]


def test_a_held_slot_counts_in_metrics_until_released(four_workers):
    def in_use() -> float:
        return REGISTRY.get_sample_value("demo_race_slots_in_use", {"bound": "probes"}) or 0.0

    before = in_use()
    slot = probe_slot_acquire("asgi")

    assert in_use() == before + 1
    slot.release()  # type: ignore[union-attr]
    slot.release()  # type: ignore[union-attr]  # a second release changes nothing
    assert in_use() == before

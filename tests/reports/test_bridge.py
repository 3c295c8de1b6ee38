"""The bridge from sync code to the channel layer, against a real Redis: what a Gunicorn sync worker
does on every publish, 500 times over."""

import gc
import logging
import threading
import warnings

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings

from reports.definitions import REPORTS
from reports.filters import DateRange
from reports.services import publication_create

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

PUBLISHES = 500
SAMPLE_EVERY = 25
# The test's own client, plus room for one publish's connection that is still closing.
CLIENTS_ALLOWED_ABOVE_BASELINE = 2


@pytest.mark.parametrize("layer", list(settings.REDIS_CHANNEL_LAYERS))
def test_500_publishes_from_sync_code_keep_redis_clients_and_threads_bounded_and_log_no_error(
    redis_server, caplog, layer
):
    staff = get_user_model().objects.create_user("manager", is_staff=True)
    report = REPORTS["revenue-by-month"]
    monitor = redis.Redis.from_url(redis_server.url)
    baseline_clients = len(monitor.client_list())
    baseline_threads = threading.active_count()
    client_counts, thread_counts, outcomes = [], [], []

    caplog.set_level(logging.DEBUG)
    layers = {
        "default": {
            "BACKEND": settings.REDIS_CHANNEL_LAYERS[layer],
            "CONFIG": {"hosts": [redis_server.url]},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number in range(1, PUBLISHES + 1):
            outcomes.append(
                publication_create(report=report, date_range=DateRange(), user=staff).broadcast_sent
            )
            if number % SAMPLE_EVERY == 0:
                client_counts.append(len(monitor.client_list()))
                thread_counts.append(threading.active_count())
        gc.collect()  # an unclosed socket or loop shows up as a ResourceWarning when it is collected

    monitor.close()
    assert outcomes == [True] * PUBLISHES
    assert max(client_counts) <= baseline_clients + CLIENTS_ALLOWED_ABOVE_BASELINE, client_counts
    assert max(thread_counts) <= baseline_threads + 2, thread_counts
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING], caplog.text
    assert "Event loop is closed" not in caplog.text
    assert not [warning for warning in caught if issubclass(warning.category, ResourceWarning)]

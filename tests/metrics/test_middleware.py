"""The request counter's labels, and /metrics answered in the process (the live tests cover the
servers): debug opens it, and a scraper that reaches a replica by its address gets it."""

import pytest

from metrics.middleware import UNRESOLVED
from tests.metrics.exposition import TOKEN
from tests.metrics.samples import sample


def requests_counted(view: str, status: str) -> float:
    return sample("django_http_requests_total", interface="wsgi", view=view, status=status)


def test_a_request_is_counted_under_its_url_name_and_status(client):
    before = requests_counted("healthz", "200")

    client.get("/healthz")

    assert requests_counted("healthz", "200") == before + 1


def test_a_request_no_pattern_matches_is_counted_as_unresolved(client):
    before = requests_counted(UNRESOLVED, "404")

    client.get("/no/such/page/")

    assert requests_counted(UNRESOLVED, "404") == before + 1


def test_each_request_is_timed_in_the_histogram(client):
    before = sample("django_http_request_duration_seconds_count", interface="wsgi", view="healthz")

    client.get("/healthz")

    assert (
        sample("django_http_request_duration_seconds_count", interface="wsgi", view="healthz") == before + 1
    )


def test_with_debug_on_metrics_is_open(client, settings):
    settings.DEBUG = True

    response = client.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests_total" in response.content


def test_with_debug_off_metrics_is_the_sites_404(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("host", ["172.29.80.5:8001", "10.0.0.7:8002"])
def test_a_scraper_reaching_a_replica_by_its_address_is_answered(client, settings, host):
    # ALLOWED_HOSTS names the site, not each replica's address, which is what Prometheus uses.
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200


def test_with_https_required_a_scrape_over_plain_http_is_answered_not_redirected(client, settings):
    # Prometheus scrapes replicas over plain HTTP from inside the network, like the health probes.
    settings.SECURE_SSL_REDIRECT = True
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200


def test_with_no_token_configured_an_empty_bearer_token_is_refused(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404

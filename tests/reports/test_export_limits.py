"""What an export may cost each stack, on real servers: HEAD runs no export, and past the bound an
export is refused with 503 + Retry-After before any byte of it is sent."""

from __future__ import annotations

import pytest
import requests

from testbed.environment import base_environment
from testbed.login import logged_in_session
from testbed.processes import wait_until
from testbed.web import gunicorn_server, uvicorn_server
from tests.conftest import Stacks
from tests.reports.live_exports import StalledReader, create_export_database

pytestmark = pytest.mark.live

STACKS = ["wsgi", "asgi"]


@pytest.fixture(scope="module")
def export_stacks(tmp_path_factory, shared_redis_url, server_logs):
    """Both stacks on a database with a big order-lines report, allowed one export at a time, and
    logging every SQL statement (debug on) so a test can see whether an export ran."""
    database = create_export_database(tmp_path_factory.mktemp("export-db"))
    env = base_environment(
        DATABASE_URL=database.url,
        REDIS_URL=shared_redis_url,
        REPORTS_EXPORT_CONCURRENCY="1",
        REPORTS_EXPORT_RETRY_AFTER_SECONDS="11",
        DJANGO_DEBUG="1",
        DJANGO_LOG_LEVEL="DEBUG",
    )
    # Three sync workers: one held by an export, and still two to refuse the next and serve pages.
    stacks = Stacks(gunicorn_server(env, server_logs, workers=3), uvicorn_server(env, server_logs), env)
    stacks.wsgi.start()
    stacks.asgi.start()
    yield stacks
    stacks.wsgi.stop()
    stacks.asgi.stop()
    database.drop()


def sql_lines_mentioning(server, text: str) -> list[str]:
    return [line for line in server.log().splitlines() if "SELECT" in line and text in line]


@pytest.mark.parametrize("stack", STACKS)
def test_head_answers_the_export_headers_without_running_the_export(export_stacks, stack):
    server = getattr(export_stacks, stack)
    session = logged_in_session(server.url, "alice")

    head = session.head(f"{server.url}/reports/order-lines/csv/?start=2024-02-02", timeout=30)
    # A GET afterwards, whose export query must show up in the log: the log is complete up to here.
    get = session.get(f"{server.url}/reports/order-lines/csv/?start=2025-12-30", timeout=30)
    wait_until(lambda: sql_lines_mentioning(server, "2025-12-30"), 10, "the GET's export query in the log")

    assert head.status_code == 200
    assert head.headers["Content-Disposition"] == 'attachment; filename="order-lines_2024-02-02.csv"'
    assert get.status_code == 200
    assert sql_lines_mentioning(server, "2024-02-02") == []


@pytest.mark.parametrize("stack", STACKS)
def test_an_export_past_the_bound_is_refused_with_503_and_retry_after(export_stacks, stack):
    server = getattr(export_stacks, stack)
    session = logged_in_session(server.url, "alice")
    stalled = StalledReader(server.url, "/reports/order-lines/csv/", session)
    try:
        assert stalled.read_head().startswith("HTTP/1.1 200")

        refused = session.get(f"{server.url}/reports/top-products/csv/", timeout=30)
        page = session.get(f"{server.url}/reports/top-products/", timeout=30)
    finally:
        stalled.close()

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "11"
    assert refused.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert page.status_code == 200


@pytest.mark.parametrize("stack", STACKS)
def test_a_reader_that_goes_away_gives_its_export_slot_back(export_stacks, stack):
    server = getattr(export_stacks, stack)
    session = logged_in_session(server.url, "alice")
    stalled = StalledReader(server.url, "/reports/order-lines/csv/", session)
    assert stalled.read_head().startswith("HTTP/1.1 200")
    assert session.get(f"{server.url}/reports/top-products/csv/", timeout=30).status_code == 503

    stalled.close()

    def export_allowed() -> bool:
        return session.get(f"{server.url}/reports/top-products/csv/", timeout=30).status_code == 200

    wait_until(export_allowed, 20, "the abandoned export's slot to be released", interval=0.5)


def test_an_anonymous_export_is_sent_to_log_in_on_both_stacks(export_stacks):
    for server in (export_stacks.wsgi, export_stacks.asgi):
        response = requests.get(f"{server.url}/reports/top-products/csv/", allow_redirects=False, timeout=30)

        assert response.status_code == 302
        assert response.headers["Location"].startswith("/accounts/login/?next=")

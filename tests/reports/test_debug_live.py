"""Report pages and exports on real servers started with DJANGO_DEBUG=1, as `make run` starts them,
checked against the same servers with debug off on the same database."""

from collections.abc import Iterator

import pytest
import requests

from reports.definitions import REPORTS
from testbed.environment import base_environment
from testbed.login import logged_in_session
from tests.conftest import Stacks, start_stacks

pytestmark = pytest.mark.live

FILTERED = "start=2025-01-01&end=2025-12-31"


@pytest.fixture(scope="module")
def debug_stacks(live_database, shared_redis_url, server_logs) -> Iterator[Stacks]:
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url, DJANGO_DEBUG="1")
    stacks = start_stacks(env, server_logs)
    yield stacks
    stacks.wsgi.stop()
    stacks.asgi.stop()


def get(session: requests.Session, url: str) -> requests.Response:
    response = session.get(url, timeout=30)
    response.raise_for_status()
    return response


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_the_debug_stacks_really_run_in_debug_mode(debug_stacks, interface):
    response = requests.get(f"{getattr(debug_stacks, interface).url}/no-such-page/", timeout=10)

    assert response.status_code == 404
    assert "Using the URLconf defined in" in response.text  # Django's technical 404 page


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
@pytest.mark.parametrize("slug", list(REPORTS))
def test_a_filtered_report_is_the_same_with_debug_on(debug_stacks, live_stacks, interface, slug):
    debug_on = getattr(debug_stacks, interface).url
    debug_off = getattr(live_stacks, interface).url
    session = logged_in_session(debug_off, "alice")  # the session lives in the shared database

    page = get(session, f"{debug_on}/reports/{slug}/?{FILTERED}")
    export = get(session, f"{debug_on}/reports/{slug}/csv/?{FILTERED}").content
    expected_export = get(session, f"{debug_off}/reports/{slug}/csv/?{FILTERED}").content

    assert 'data-testid="report-table"' in page.text
    assert export == expected_export
    assert export.count(b"\r\n") > 1  # a header and rows

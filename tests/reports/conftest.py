import random

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client

from reports.seeding import seed_shop

SHOP_LINES = 600
# Every shape of date filter a page or an export can get: none, either bound, both. Each bound adds
# a parameter to the report's SQL.
DATE_FILTERS = ["", "start=2025-01-01", "end=2024-06-30", "start=2024-03-01&end=2025-03-31"]


@pytest.fixture
def shop(db) -> int:
    """A small shop: regions, the catalogue and SHOP_LINES order lines over 2024 and 2025."""
    seed_shop(random.Random("tests:shop"), SHOP_LINES)
    return SHOP_LINES


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings) -> bool:
    """Run the test with debug off, as the suite and production do, and on, as `make run` does.

    With DEBUG on, every query goes through Django's CursorDebugWrapper, which renders the SQL with
    its parameters for the query log (connection.queries): SQL that only runs with debug off fails
    there."""
    settings.DEBUG = request.param
    assert connection.queries_logged is request.param
    return request.param


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user("manager", password="irrelevant", is_staff=True)


@pytest.fixture
def plain_user(db):
    return get_user_model().objects.create_user("customer", password="irrelevant")


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def plain_client(plain_user) -> Client:
    client = Client()
    client.force_login(plain_user)
    return client


@pytest.fixture
async def orm_thread_connections_closed():
    """Close the connections that async ORM calls opened in asgiref's shared worker thread, which
    outlives the test: left open, they stop the test database from being dropped at the end."""
    yield
    await sync_to_async(connections.close_all)()

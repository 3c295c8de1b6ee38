import random

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from reports.seeding import seed_shop

SHOP_LINES = 600


@pytest.fixture
def shop(db) -> int:
    """A small shop: regions, the catalogue and SHOP_LINES order lines over 2024 and 2025."""
    seed_shop(random.Random("tests:shop"), SHOP_LINES)
    return SHOP_LINES


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

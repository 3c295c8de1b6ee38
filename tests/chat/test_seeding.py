import random

import pytest

from chat.models import Message, Room
from chat.seeding import DEMO_ROOMS, seed_rooms
from demo.seeding import seed_users

pytestmark = pytest.mark.django_db


def seeded_messages() -> list[tuple[str, str, str]]:
    return list(Message.objects.order_by("id").values_list("room__name", "author__username", "text"))


def test_creates_the_demo_rooms_with_messages():
    seed_users(random.Random(1), 0)

    seed_rooms(random.Random("2026:rooms"), 0)

    assert sorted(Room.objects.values_list("name", flat=True)) == sorted(DEMO_ROOMS)
    assert all(room.message_count > 0 for room in Room.objects.all())


def test_running_twice_adds_nothing():
    seed_users(random.Random(1), 0)
    seed_rooms(random.Random("2026:rooms"), 0)
    before = seeded_messages()

    summary = seed_rooms(random.Random("2026:rooms"), 0)

    assert seeded_messages() == before
    assert summary.startswith("0 new messages")


def test_the_same_seed_gives_the_same_messages():
    seed_users(random.Random(1), 0)
    seed_rooms(random.Random("2026:rooms"), 0)
    first = seeded_messages()
    Message.objects.all().delete()
    Room.objects.all().delete()

    seed_rooms(random.Random("2026:rooms"), 0)

    assert seeded_messages() == first


def test_without_demo_users_it_skips():
    assert seed_rooms(random.Random(1), 0).startswith("skipped")
    assert not Message.objects.exists()

import pytest
from django.contrib.auth import get_user_model

from chat.models import Message, Room
from tests.chat.posting import post, post_many

pytestmark = pytest.mark.django_db


def test_posting_stores_the_message_and_returns_its_frame(alice):
    posted = post(alice, "hello", client_id="c-1")

    message = Message.objects.get()
    assert posted.created
    assert posted.frame == {
        "type": "message",
        "id": message.id,
        "room": "lobby",
        "user": "alice",
        "text": "hello",
        "created": message.created.isoformat(),
        "client_id": "c-1",
    }


def test_the_first_message_creates_the_room(alice):
    assert not Room.objects.exists()

    post(alice, room="new-room")

    assert Room.objects.get().name == "new-room"


def test_each_message_names_the_previous_one_of_its_room(alice):
    first = post(alice, room="a")
    post(alice, room="b")
    second = post(alice, room="a")

    assert first.prev_id is None
    assert second.prev_id == first.frame["id"]


def test_the_room_counts_its_messages_and_remembers_the_last(alice):
    ids = post_many(alice, 3)

    room = Room.objects.get()
    assert room.message_count == 3
    assert room.last_message_id == ids[-1]
    assert room.last_message_at == Message.objects.get(id=ids[-1]).created


def test_a_resent_client_id_stores_nothing_and_returns_the_stored_message(alice):
    first = post(alice, "hello", client_id="c-1")

    again = post(alice, "hello again", client_id="c-1")

    assert not again.created
    assert again.frame == first.frame
    assert Message.objects.count() == 1
    assert Room.objects.get().message_count == 1


def test_two_authors_may_use_the_same_client_id(alice):
    bob = get_user_model().objects.create_user("bob")

    post(alice, client_id="c-1")
    post(bob, client_id="c-1")

    assert Message.objects.count() == 2


def test_messages_without_client_id_are_never_taken_for_resends(alice):
    post(alice, "same")
    post(alice, "same")

    assert Message.objects.count() == 2

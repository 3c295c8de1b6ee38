import pytest

from chat.selectors import HISTORY_LENGTH, RESUME_BATCH, messages_after, room_history
from tests.chat.posting import post_many

pytestmark = pytest.mark.django_db


def test_history_of_an_unknown_room_is_empty():
    history = room_history("nobody-here", after=None)

    assert (history.messages, history.through_id, history.complete) == ([], None, True)


def test_history_is_the_last_messages_oldest_first(alice):
    ids = post_many(alice, HISTORY_LENGTH + 5)

    history = room_history("lobby", after=None)

    assert [frame["id"] for frame in history.messages] == ids[-HISTORY_LENGTH:]
    assert history.through_id == ids[-1]
    assert history.complete


def test_history_after_an_id_is_what_came_after_it(alice):
    ids = post_many(alice, 10)

    history = room_history("lobby", after=ids[3])

    assert [frame["id"] for frame in history.messages] == ids[4:]
    assert history.through_id == ids[-1]


def test_history_after_the_last_id_is_empty_but_accounts_for_the_room(alice):
    ids = post_many(alice, 3)

    history = room_history("lobby", after=ids[-1])

    assert history.messages == []
    assert history.through_id == ids[-1]


def test_history_never_mixes_rooms(alice):
    post_many(alice, 3, room="a")
    other = post_many(alice, 2, room="b")

    history = room_history("b", after=0)

    assert [frame["id"] for frame in history.messages] == other
    assert {frame["room"] for frame in history.messages} == {"b"}


def test_a_long_resume_is_cut_at_the_batch_and_says_so(alice):
    ids = post_many(alice, RESUME_BATCH + 3)

    history = room_history("lobby", after=0)

    assert [frame["id"] for frame in history.messages] == ids[:RESUME_BATCH]
    assert history.through_id == ids[RESUME_BATCH - 1]
    assert not history.complete


def test_messages_after_continue_in_id_order(alice):
    ids = post_many(alice, 6)

    assert [frame["id"] for frame in messages_after("lobby", ids[1], limit=3)] == ids[2:5]
    assert [frame["id"] for frame in messages_after("lobby", None)] == ids

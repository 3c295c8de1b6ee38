"""Posting chat messages straight through the service, for the tests of what reads them back."""

from chat.services import message_post


def post(user, text: str = "hi", room: str = "lobby", client_id: str | None = None):
    return message_post(room, user.pk, user.username, text, client_id)


def post_many(user, count: int, room: str = "lobby") -> list[int]:
    return [post(user, f"message {number}", room).frame["id"] for number in range(count)]

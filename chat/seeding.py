"""Demo chat rooms with a few messages: the "rooms" step of `manage.py seed_demo`."""

import random

from django.contrib.auth import get_user_model

from chat.services import message_post
from demo.seeding import DEMO_USERS

DEMO_ROOMS = ["lobby", "wsgi-vs-asgi", "help"]
MESSAGES_PER_ROOM = (6, 12)

OPENINGS = ["Hi all", "Quick question", "Good news", "Note to self", "Heads up", "Fun fact"]
TOPICS = [
    "Gunicorn answered this page, Uvicorn holds the socket",
    "the chat survives a Redis restart and resumes with ?after=",
    "an async view that calls time.sleep stalls the whole worker",
    "the CSV export streams on both stacks",
    "presence entries expire when a server dies",
    "every message is stored before anyone hears of it",
]
ENDINGS = ["!", ".", " :)", ", right?", " (see docs/chat.md)."]


def seed_rooms(rng: random.Random, size: int) -> str:
    """A few messages by the demo users in each demo room. Each message has a client_id derived
    from its room and position, so running the step again stores nothing new."""
    authors = list(get_user_model().objects.filter(username__in=DEMO_USERS).order_by("username"))
    if not authors:
        return "skipped: no demo users"
    created = 0
    for room in DEMO_ROOMS:
        for position in range(rng.randint(*MESSAGES_PER_ROOM)):
            author = rng.choice(authors)
            text = f"{rng.choice(OPENINGS)}: {rng.choice(TOPICS)}{rng.choice(ENDINGS)}"
            posted = message_post(room, author.pk, author.get_username(), text, f"seed-{room}-{position}")
            created += posted.created
    return f"{created} new messages in {len(DEMO_ROOMS)} demo rooms"

"""Demo accounts, the first step of `manage.py seed_demo`."""

import random

from django.contrib.auth import get_user_model

# Printed by `make run` and shown in the README: these accounts exist only in demo data.
DEMO_PASSWORD = "wsgi-asgi-demo"
DEMO_STAFF = "admin"
DEMO_USERS = ["alice", "bob", "carol"]


def seed_users(rng: random.Random, size: int) -> str:
    """Create the demo accounts once; running again changes nothing."""
    User = get_user_model()
    created = 0
    for username in [DEMO_STAFF, *DEMO_USERS]:
        staff = username == DEMO_STAFF
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={"is_staff": staff, "is_superuser": staff, "email": f"{username}@example.com"},
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created += 1
    return f"{created} new of {1 + len(DEMO_USERS)} demo accounts (password {DEMO_PASSWORD!r})"

import random
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from chat.seeding import seed_rooms
from demo.seeding import seed_users
from reports.seeding import seed_shop

# Each step takes its own random generator, derived from --seed and the step's name, so adding a
# step never changes the data an existing step makes for the same seed.
SEED_STEPS = [
    ("users", seed_users),
    ("rooms", seed_rooms),
    ("shop", seed_shop),
]

DEFAULT_SIZE = 20_000
DEFAULT_SEED = 2026


class Command(BaseCommand):
    help = (
        "Create the demo data: users, chat rooms and a shop's orders to report on. "
        "The same --seed gives the same data; running it again adds no duplicates."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size", type=int, default=DEFAULT_SIZE, help=f"order lines to create (default {DEFAULT_SIZE})"
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
        )

    def handle(self, *args: str, size: int, seed: int, **options: Any) -> None:
        if size < 0:
            raise CommandError("--size must be 0 or more.")
        for name, step in SEED_STEPS:
            with transaction.atomic():
                summary = step(random.Random(f"{seed}:{name}"), size)
            self.stdout.write(f"{name}: {summary}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

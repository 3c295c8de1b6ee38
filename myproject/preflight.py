"""Refuse a configuration the settings reject with the one line that says why, not a traceback.

myproject/settings.py (through myproject/environment.py) raises ImproperlyConfigured naming the
variable and what it should be (DJANGO_SECRET_KEY missing with debug off, a DATABASE_URL or
REDIS_URL it cannot use...). Left alone, that line comes last under fifty lines of import
machinery, once per process.

- `manage.py` calls `load_settings_or_exit()` before handing over to Django.
- The start scripts (deploy/start-*.sh) run `python -m myproject.preflight wsgi|asgi` before they
  exec the server. The check cannot be left to the server: Gunicorn, Uvicorn, Daphne and Granian
  import myproject.wsgi or myproject.asgi themselves, in each worker, and report an import error
  their own way (Gunicorn logs a traceback from every worker, then "Worker failed to boot").
- `make run` asks `python -m myproject.preflight asgi --race-driver` whether to start the race's
  driver (deploy/start-race-driver.sh): it also exits with DEMO_OFF when the demo is off
  (DJANGO_DEMO), and the driver then has nothing to drive.
"""

import os
import sys

from django.core.exceptions import ImproperlyConfigured

INTERFACES = ("wsgi", "asgi")
# The exit status that says "the demo is off", told apart from a configuration error (1).
DEMO_OFF = 3


def load_settings_or_exit(interface: str | None = None) -> None:
    """Import the settings; on a configuration error, print its message to stderr and exit 1.

    `interface` is the one the server will serve: some settings depend on it (the database pool and
    the export limit checked against it exist only under ASGI), so the check must see what that
    server's entry point (myproject/wsgi.py or asgi.py) will set.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
    if interface is not None:
        os.environ["SERVER_INTERFACE"] = interface
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - the first read imports the settings module
    except ImproperlyConfigured as error:
        sys.exit(f"Configuration error: {error}")


def main(arguments: list[str]) -> None:
    if (
        len(arguments) not in (1, 2)
        or arguments[0] not in INTERFACES
        or arguments[1:] not in ([], ["--race-driver"])
    ):
        sys.exit("Usage: python -m myproject.preflight wsgi|asgi [--race-driver]")
    load_settings_or_exit(arguments[0])
    if arguments[1:]:
        from django.conf import settings

        if not settings.DEMO:
            print(
                "The demo is off (DJANGO_DEMO), so the race page's driver has nothing to drive.",
                file=sys.stderr,
            )
            sys.exit(DEMO_OFF)


if __name__ == "__main__":
    main(sys.argv[1:])

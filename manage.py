#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
    if sys.argv[1:2] == ["runserver"]:
        # The contract: debug is on for everyday development and off everywhere else,
        # so a production server never starts in debug mode by accident.
        os.environ.setdefault("DJANGO_DEBUG", "1")
        # Daphne's runserver serves the ASGI application (HTTP and WebSockets), whatever the
        # environment says.
        os.environ["SERVER_INTERFACE"] = "asgi"
    from myproject.preflight import load_settings_or_exit

    # A configuration the settings refuse (a missing secret, an unusable DATABASE_URL...) ends here
    # with its one-line message; Django would show it at the bottom of a traceback.
    load_settings_or_exit()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

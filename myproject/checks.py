"""Start-up warnings for configurations that run but do not do what the project promises."""

import logging
import sys

from django.conf import settings

logger = logging.getLogger("myproject")

PROCESS_LOCAL_LAYERS = {"channels.layers.InMemoryChannelLayer"}


def warn_if_channel_layer_is_process_local(interface: str) -> bool:
    """Warn when a real server runs with a channel layer that lives in its own memory.

    Under runserver one process does everything, so an in-memory layer works. A Gunicorn or Uvicorn
    process cannot reach another process's memory: events published on one stack would never reach
    WebSocket clients of the other. Returns whether it warned.
    """
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if backend not in PROCESS_LOCAL_LAYERS or sys.argv[1:2] == ["runserver"]:
        return False
    logger.warning(
        "REDIS_URL is not set: this %s process uses an in-memory channel layer that no other process "
        "can reach. Events published by one stack will not reach WebSocket clients of the other. "
        "Set REDIS_URL (make run starts an embedded Redis for you).",
        interface.upper(),
    )
    return True

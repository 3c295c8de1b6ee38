"""Bridge latency: a staff member publishes a report (POST, a plain `def` view) and a WebSocket client
of Uvicorn receives `report.published`.

    python -m loadtests.bench_bridge [--publishes 200] [--layer RedisChannelLayer] [--database-url URL]

Publishes one at a time, first through Gunicorn (WSGI: async_to_sync runs a fresh event loop and a
fresh Redis connection per publish), then through Uvicorn (ASGI: the view's thread hands the send to
the server's loop, which keeps its Redis connections). For each it reports, in ms:

* end to end: from sending the POST to the frame arriving on the socket;
* publish response: the POST's own response time (store, commit, broadcast, redirect);
* bridge: from the publication's `published_at` (set in the view, before the commit) to the frame
  arriving; the same machine's clock on both ends.

Then, without HTTP or the database, it calls `broadcast_publication` from this process's sync code
exactly as a Gunicorn worker does (a fresh event loop and Redis connection per call), to isolate
the channel-layer hop: the call itself, and the call until the frame arrives on Uvicorn.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime

from websockets.sync.client import connect
from websockets.typing import Origin

from loadtests.bench_shop import (
    DEFAULT_DATABASE_URL,
    machine_facts,
    prepare_shop,
    print_table,
    running_stacks,
    save,
    staff_session,
    summary_ms,
)
from testbed.web import WebServer

WARM_UP_PUBLISHES = 10
UNSAVED_IDS_FROM = 10**12
# myproject/settings.py's REDIS_CHANNEL_LAYER choices, its default first.
CHANNEL_LAYERS = ["RedisPubSubChannelLayer", "RedisChannelLayer"]
# The bridge needs only the demo accounts and a few orders; it does not depend on the data's size.
SHOP_LINES = 200


def measure(publisher: WebServer, listener: WebServer, publishes: int) -> dict[str, dict[str, float]]:
    session, token = staff_session(publisher)
    url = f"{publisher.url}/reports/revenue-by-month/publish/"
    end_to_end, responses, bridge = [], [], []
    with connect(
        f"ws://127.0.0.1:{listener.port}/ws/notifications/",
        origin=Origin(f"http://127.0.0.1:{listener.port}"),
    ) as socket:
        for number in range(WARM_UP_PUBLISHES + publishes):
            started = time.perf_counter()
            response = session.post(
                url, data={"csrfmiddlewaretoken": token}, allow_redirects=False, timeout=10
            )
            answered = time.perf_counter()
            frame = json.loads(socket.recv(timeout=10))
            received, received_wall = time.perf_counter(), time.time()
            if response.status_code != 303 or frame["type"] != "report.published":
                raise RuntimeError(f"publish failed: {response.status_code} {frame}")
            if number < WARM_UP_PUBLISHES:
                continue
            end_to_end.append(received - started)
            responses.append(answered - started)
            bridge.append(received_wall - datetime.fromisoformat(frame["report"]["published_at"]).timestamp())
    return {
        "end_to_end": summary_ms(end_to_end),
        "publish_response": summary_ms(responses),
        "bridge": summary_ms(bridge),
    }


def measure_broadcast_only(database_url: str, redis_url: str, listener: WebServer, publishes: int) -> dict:
    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-not-for-production")
    import django

    django.setup()
    from django.utils import timezone

    from reports.models import Publication
    from reports.services import broadcast_publication

    calls, deliveries = [], []
    with connect(
        f"ws://127.0.0.1:{listener.port}/ws/notifications/",
        origin=Origin(f"http://127.0.0.1:{listener.port}"),
    ) as socket:
        for number in range(WARM_UP_PUBLISHES + publishes):
            # Never saved: the frame needs an id, a title and a time, not a row.
            publication = Publication(
                pk=UNSAVED_IDS_FROM + number,
                report_slug="revenue-by-month",
                title="bench",
                published_at=timezone.now(),
            )
            started = time.perf_counter()
            if not broadcast_publication(publication):
                raise RuntimeError("the broadcast failed")
            sent = time.perf_counter()
            frame = json.loads(socket.recv(timeout=10))
            received = time.perf_counter()
            if frame["id"] != publication.pk:
                raise RuntimeError(f"unexpected frame {frame}")
            if number >= WARM_UP_PUBLISHES:
                calls.append(sent - started)
                deliveries.append(received - started)
    return {"broadcast_call": summary_ms(calls), "broadcast_to_frame": summary_ms(deliveries)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishes", type=int, default=200)
    parser.add_argument(
        "--layer",
        choices=CHANNEL_LAYERS,
        default=CHANNEL_LAYERS[0],
        help="the channel layer of both stacks and of this process (default: the project's default)",
    )
    parser.add_argument(
        "--database-url", default=DEFAULT_DATABASE_URL.replace("shop.sqlite3", "bridge.sqlite3")
    )
    options = parser.parse_args(argv)

    # Read by myproject/settings.py, in the servers (which inherit this environment) and here.
    os.environ["REDIS_CHANNEL_LAYER"] = options.layer
    prepare_shop(options.database_url, SHOP_LINES)
    facts = machine_facts(options.database_url)
    results = {}
    with running_stacks(options.database_url) as stacks:
        for label, publisher in (("via Gunicorn (WSGI)", stacks.wsgi), ("via Uvicorn (ASGI)", stacks.asgi)):
            print(f"{options.publishes} publishes {label}, received on Uvicorn...", flush=True)
            results[label] = measure(publisher, stacks.asgi, options.publishes)
        label = "sync code, no HTTP or database"
        print(f"{options.publishes} broadcasts from {label}, received on Uvicorn...", flush=True)
        results[label] = measure_broadcast_only(
            options.database_url, stacks.redis.url, stacks.asgi, options.publishes
        )

    print()
    print_table(
        ["publisher", "measure", "p50 ms", "p99 ms", "max ms"],
        [
            [label, name, figures["p50_ms"], figures["p99_ms"], figures["max_ms"]]
            for label, measures in results.items()
            for name, figures in measures.items()
        ],
    )
    print(f"channel layer: {options.layer}")
    save(
        "bridge",
        facts,
        {
            "channel_layer": options.layer,
            "publishes": options.publishes,
            "warm_up": WARM_UP_PUBLISHES,
            **results,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

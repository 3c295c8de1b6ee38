"""The project's metrics: names, labels, and how each is added up over a server's processes.

A Gunicorn or Uvicorn server with several workers is several processes, and Prometheus scrapes
one of them per request: numbers kept in one process's memory would be that worker's alone, and
would jump from scrape to scrape. With PROMETHEUS_MULTIPROC_DIR set (deploy/start-*.sh sets it),
prometheus-client keeps each process's values in memory-mapped files in that directory, and
`/metrics` adds the files up (metrics/exposition.py). Unset (runserver, the unit tests: one
process), the values live in the process's memory, and nothing needs adding up.

Counters and histograms are summed over every process that ever wrote them, dead ones included, so
that a restarted worker never makes a counter go back. Gauges say what is true now, so they are
`livesum`: summed over the processes still alive. A dead process's gauge file is removed by
Gunicorn's `child_exit` hook (metrics/gunicorn_hooks.py) or, for servers with no such hook
(Uvicorn, Granian), at the next scrape (metrics/exposition.py).
"""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "django_http_requests",  # exposed as django_http_requests_total
    "HTTP requests answered, by interface (wsgi, asgi), view (its URL name) and status code.",
    ["interface", "view", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "django_http_request_duration_seconds",
    "Time from a request reaching Django to its response's headers, by interface and view. A "
    "streamed body (a CSV export) is not included.",
    ["interface", "view"],
)
# The ASGI stack's load is the sockets it holds open, not the requests it answers: this is what an
# autoscaler watches to add ASGI replicas (docs/deployment.md).
WEBSOCKET_CONNECTIONS = Gauge(
    "asgi_websocket_connections",
    "WebSocket connections accepted and not yet closed, over the live processes of this server.",
    multiprocess_mode="livesum",
)
CHANNEL_LAYER_ERRORS = Counter(
    "channel_layer_errors",  # exposed as channel_layer_errors_total
    "Channel layer (Redis) operations that failed, by operation: join (a socket refused), "
    "broadcast (stored but not sent live), receive (a socket closed with 1013).",
    ["operation"],
)
EXPORT_SLOTS_IN_USE = Gauge(
    "reports_export_slots_in_use",
    "CSV exports running on this stack (its bound is REPORTS_EXPORT_CONCURRENCY).",
    ["interface"],
    multiprocess_mode="livesum",
)
# One label value per bound of the demo: demo/consumers.py counts `bound="races"`, demo/probe_slots.py
# `bound="probes"` (the slow probes' slots, per stack).
DEMO_RACE_SLOTS_IN_USE = Gauge(
    "demo_race_slots_in_use",
    "Slots of the demo's bounds in use, by bound: races (races running, MAX_RACES_PER_PROCESS per "
    "process) and probes (slow probes running, DJANGO_DEMO_PROBE_SLOTS per stack).",
    ["bound"],
    multiprocess_mode="livesum",
)

"""Who may read /metrics.

The numbers say how busy each process is and which views fail: nothing a visitor needs, and a map
for an attacker. In production they are served only to the scraper, which is recognised by either:

- a token: `Authorization: Bearer <METRICS_TOKEN>`, for a scraper that reaches the servers over a
  network other clients share (Prometheus' `authorization` setting sends it);
- its address: the client's address in METRICS_ALLOW_FROM, for a scraper on a network only it and
  the servers are on (the orchestrator's).

Anyone else gets the site's own 404, as for any URL that does not exist. With DEBUG on it is open.
"""

import hmac

from django.conf import settings
from django.http import HttpRequest

from myproject.client_address import is_trusted, trusted_networks


def may_read_metrics(request: HttpRequest) -> bool:
    if settings.DEBUG:
        return True
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        # Compared in constant time, so that the answer's timing does not leak the token.
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), token.encode()):
            return True
    # REMOTE_ADDR is the client's address as the server established it: Uvicorn and
    # myproject/wsgi.py take it from X-Forwarded-For only when a trusted proxy sent it.
    # Parsed per scrape, not once: a scrape every few seconds makes that cost nothing.
    return is_trusted(request.META.get("REMOTE_ADDR", ""), trusted_networks(settings.METRICS_ALLOW_FROM))

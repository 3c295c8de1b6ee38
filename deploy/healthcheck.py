"""The containers' health check: GET /healthz on the container's own port, with a Host header the
site accepts.

Django refuses a request whose Host is not in ALLOWED_HOSTS with a 400 (CommonMiddleware reads the
host of every request). A check that asked `http://127.0.0.1:8001/healthz` as it is would pass with
the default DJANGO_ALLOWED_HOSTS (localhost,127.0.0.1) and fail as soon as a production deployment
names its own site there: the container would never be healthy, and nginx, which waits for it,
would never start. So the check names the first allowed host, as a client of the site would.

    python deploy/healthcheck.py 8001

Exit status 0 for a 200, 1 otherwise, with the reason on standard error. It reads the environment
only (no Django import): it runs every few seconds in every container.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5
HEALTH_PATH = "/healthz"  # the liveness probe's path in the Kubernetes manifests too


def host_to_ask(allowed_hosts: str) -> str:
    """A Host that DJANGO_ALLOWED_HOSTS (comma-separated, as settings.py reads it) accepts."""
    for host in (name.strip() for name in allowed_hosts.split(",")):
        if host and host != "*":
            # ".example.com" allows example.com itself and every subdomain.
            return host.removeprefix(".")
    return "localhost"  # Django's default, and what "*" accepts like any other


def check(port: int, allowed_hosts: str) -> str | None:
    """None if /healthz answered 200, else why not."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{HEALTH_PATH}", headers={"Host": host_to_ask(allowed_hosts)}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return None if response.status == 200 else f"{HEALTH_PATH} answered {response.status}"
    except urllib.error.HTTPError as error:
        error.close()
        return f"{HEALTH_PATH} answered {error.code}"
    except OSError as error:
        return f"{HEALTH_PATH} did not answer: {error}"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python deploy/healthcheck.py PORT", file=sys.stderr)
        return 2
    problem = check(int(argv[0]), os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1"))
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

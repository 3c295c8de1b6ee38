"""Refuse to start `make run` when one of its ports is taken: say which, what seems to hold it (most
often another `make run`), and how to start on other ports.

Usage: python deploy/check_ports.py VARIABLE=PORT [VARIABLE=PORT ...]
       e.g. python deploy/check_ports.py WSGI_PORT=8001 ASGI_PORT=8002 EMBEDDED_REDIS_PORT=6390
"""

import http.client
import socket
import sys

ROLES = {
    "WSGI_PORT": "WSGI",
    "ASGI_PORT": "ASGI",
    "RACE_DRIVER_PORT": "race driver",
    "EMBEDDED_REDIS_PORT": "embedded Redis",
}
REDIS_PORTS = {"EMBEDDED_REDIS_PORT"}
HOST = "127.0.0.1"
# A server of this project answers a health check in milliseconds; anything slower is not one.
PROBE_TIMEOUT_SECONDS = 1.0
# Other ports to suggest: the taken one plus 10, plus 20... (8001 -> 8011), the first that is free.
SUGGESTION_STEP = 10


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR, as Gunicorn, Uvicorn and Redis set it: after a stop, the port's closed
        # connections linger in TIME_WAIT for a minute, and the servers may bind it all the same. A
        # port that someone still listens on is refused either way.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def interface_of_server_on(port: int) -> str | None:
    """The interface, "wsgi" or "asgi", when one of this project's servers answers there: every
    response it sends carries X-Interface."""
    connection = http.client.HTTPConnection(HOST, port, timeout=PROBE_TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().getheader("X-Interface")
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def redis_answers_on(port: int) -> bool:
    # Only Redis ports get this probe, and web ports only the HTTP one: each server logs a request
    # in the other's protocol as an error (Redis even as a possible attack).
    try:
        with socket.create_connection((HOST, port), timeout=PROBE_TIMEOUT_SECONDS) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def holder_of(variable: str, port: int) -> str | None:
    """Who listens on `port`, when it looks like part of a `make run`."""
    if variable in REDIS_PORTS:
        return "a Redis server" if redis_answers_on(port) else None
    interface = interface_of_server_on(port)
    return f"this project's {interface.upper()} stack" if interface in {"wsgi", "asgi"} else None


def free_port_near(port: int, excluded: set[int]) -> int | None:
    for candidate in range(port + SUGGESTION_STEP, 65536, SUGGESTION_STEP):
        if candidate not in excluded and port_is_free(candidate):
            return candidate
    return None


def suggested_ports(ports: dict[str, int], taken: list[str]) -> list[str]:
    """VARIABLE=PORT for each taken port: free ones, distinct from each other and from the rest."""
    excluded = set(ports.values())
    suggestions = []
    for variable in taken:
        alternative = free_port_near(ports[variable], excluded)
        if alternative is not None:
            excluded.add(alternative)
            suggestions.append(f"{variable}={alternative}")
    return suggestions


def main(arguments: list[str]) -> int:
    ports = {}
    for argument in arguments:
        variable, _, port = argument.partition("=")
        if not (port.isascii() and port.isdecimal() and 0 < int(port) < 65536):
            print(f"make run: {variable} must be a port number (1-65535), not {port!r}.", file=sys.stderr)
            return 2
        ports[variable] = int(port)
    taken = [variable for variable, port in ports.items() if not port_is_free(port)]
    if not taken:
        return 0

    ours = False
    for variable in taken:
        holder = holder_of(variable, ports[variable])
        # A Redis alone is no sign of this project: any Redis could sit on that port.
        ours |= holder is not None and variable not in REDIS_PORTS
        by = f", by {holder}" if holder else ""
        role = ROLES.get(variable, variable)
        print(f"make run: port {ports[variable]} ({role}) is already in use{by}.", file=sys.stderr)
    if ours:
        # docker-compose.yml publishes the stacks on the same ports as `make run`.
        print(
            "This project is already running (another `make run`, or `docker compose up`): stop it with",
            file=sys.stderr,
        )
        print(
            "Ctrl-C in its terminal (or `docker compose down`), or run this one on other ports:",
            file=sys.stderr,
        )
    else:
        print("Stop whatever is listening there, or run `make run` on other ports:", file=sys.stderr)
    print(f"    make run {' '.join(suggested_ports(ports, taken))}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Refuse to start `make run` when one of its ports is taken, and say which one.

Usage: python deploy/check_ports.py NAME=PORT [NAME=PORT ...]
"""

import socket
import sys


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Not SO_REUSEADDR: a port in TIME_WAIT would pass here and fail in the server.
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def main(arguments: list[str]) -> int:
    taken = []
    for argument in arguments:
        name, _, port = argument.partition("=")
        if not port_is_free(int(port)):
            taken.append(f"port {port} ({name}) is already in use")
    for message in taken:
        print(
            f"make run: {message}. Stop whatever is listening there, or pick another port.", file=sys.stderr
        )
    return 1 if taken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The visitor's address on the WSGI stack when a proxy (nginx) sits in front of it.

Both servers are told whom to believe with the same variable, FORWARDED_ALLOW_IPS (the proxy's
addresses; deploy/start-*.sh). Uvicorn applies it to the client's address too: for a request from
a trusted proxy, the ASGI scope's `client` becomes the address the proxy put in X-Forwarded-For.
Gunicorn applies it only to the scheme (X-Forwarded-Proto) and leaves REMOTE_ADDR as the proxy's
own address, so behind nginx every visitor of the WSGI stack would look like one client: one login
lockout and one sign-up budget shared by everybody. This wrapper gives WSGI what Uvicorn already
does for ASGI, from the same list, so both stacks see the same address for the same visitor.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(addresses: Iterable[str]) -> list[Network]:
    """FORWARDED_ALLOW_IPS's entries (addresses or networks) as networks. "*" is refused: trusting
    every peer would let any client name its own address."""
    networks = []
    for address in addresses:
        if address.strip() == "*":
            raise ValueError("FORWARDED_ALLOW_IPS must name the proxy's addresses, not '*'")
        networks.append(ipaddress.ip_network(address.strip(), strict=False))
    return networks


def is_trusted(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def forwarded_client(remote_addr: str, forwarded_for: str, networks: list[Network]) -> str:
    """The client's address: REMOTE_ADDR unless it is a trusted proxy; then, walking
    X-Forwarded-For from the right (the entries each proxy appended), the first address that is
    not a trusted proxy itself. Entries further left were written by the client and prove nothing.
    """
    if not is_trusted(remote_addr, networks):
        return remote_addr
    for entry in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not is_trusted(entry, networks):
            return entry
    return remote_addr


class ClientAddressFromTrustedProxy:
    """WSGI middleware: REMOTE_ADDR becomes the client's address for requests from a trusted proxy."""

    def __init__(self, application: WSGIApplication, trusted: Iterable[str]) -> None:
        self.application = application
        self.networks = trusted_networks(trusted)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.networks and "REMOTE_ADDR" in environ:
            environ["REMOTE_ADDR"] = forwarded_client(
                environ["REMOTE_ADDR"], environ.get("HTTP_X_FORWARDED_FOR", ""), self.networks
            )
        return self.application(environ, start_response)

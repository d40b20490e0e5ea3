"""The client's address behind trusted proxies (``HOURBOOK_TRUSTED_PROXIES``), as WSGI middleware.

nginx appends the address it saw to ``X-Forwarded-For``; anything to the left of that came from
the client and proves nothing. So the address is read from the right: with a hop count, the
entry that many places from the right (Werkzeug's ``ProxyFix``); with networks, the first entry
from the right that is not a trusted proxy, and only when the socket's peer is one. Everything
after this (rate limits, login throttling, logs) reads ``REMOTE_ADDR`` and sees that address.
A request whose peer is not trusted keeps its peer's address, whatever headers it sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from werkzeug.middleware.proxy_fix import ProxyFix

from entrypoints.config import TrustedProxies

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_ORIGINAL = "hourbook.peer_addr"


class TrustedNetworks:
    """Replace ``REMOTE_ADDR`` by the nearest untrusted address in ``X-Forwarded-For``."""

    def __init__(self, app: object, networks: Iterable[_Network]) -> None:
        self.app = app
        self.networks = tuple(networks)

    def __call__(self, environ: dict[str, object], start_response: object) -> object:
        peer = str(environ.get("REMOTE_ADDR") or "")
        environ[_ORIGINAL] = peer
        if self._trusted(peer):
            forwarded = str(environ.get("HTTP_X_FORWARDED_FOR") or "")
            environ["REMOTE_ADDR"] = self._client(peer, forwarded)
        return self.app(environ, start_response)  # type: ignore[operator]

    def _client(self, peer: str, forwarded: str) -> str:
        hops = [part.strip() for part in forwarded.split(",") if part.strip()]
        client = peer
        while hops and self._trusted(client):
            candidate = hops.pop()
            if _address(candidate) is None:
                return client  # garbage where an address should be: stop at the last proxy
            client = candidate
        return client

    def _trusted(self, address: str) -> bool:
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self.networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def behind_proxies(wsgi_app: object, trusted: TrustedProxies) -> object:
    """``wsgi_app`` reading the client's address as ``trusted`` says (unchanged if no proxy)."""
    if trusted.hops:
        return ProxyFix(wsgi_app, x_for=trusted.hops, x_proto=0, x_host=0, x_port=0)  # type: ignore[arg-type]
    if trusted.networks:
        return TrustedNetworks(wsgi_app, trusted.networks)
    return wsgi_app

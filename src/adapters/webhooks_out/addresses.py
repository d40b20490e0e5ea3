"""Which URLs an endpoint may have, and which address a delivery connects to (the SSRF guard).

A URL is checked when the endpoint is created or changed, and again before every delivery:
the host is resolved then, every address it resolves to must be allowed, and the delivery
connects to the address that was checked (``Target.address``), never resolving again. A name
that resolved to a public address at creation and to ``127.0.0.1`` later (DNS rebinding) is
refused at delivery.

An address is allowed if it is global (not loopback, private, link-local, shared, reserved,
multicast or unspecified; the cloud metadata addresses are link-local or private), or if it
lies in one of ``allowed_networks`` (the explicit allow-list; the tests use it for their
receiver on 127.0.0.1). ``require_https`` (production) refuses plain ``http``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to; raises OSError when it does not resolve
Resolver = Callable[[str, int], Sequence[str]]
MAX_URL_LENGTH = 2000


class UrlRefused(ValueError):
    """The URL may not be called; the message says why, for the admin who gave it."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where one delivery goes: the URL's parts and the checked address to connect to."""

    scheme: str
    host: str  # as written in the URL: the Host header and the TLS server name
    port: int
    path: str  # with the query, if any
    address: str  # the checked IP to connect to


def system_resolver(host: str, port: int) -> list[str]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True, slots=True, kw_only=True)
class UrlPolicy:
    require_https: bool = True
    allowed_networks: tuple[IpNetwork, ...] = ()
    resolver: Resolver = system_resolver

    def check_form(self, url: str) -> None:
        """What can be told without DNS: scheme, host, no credentials, length."""
        self._parts(url)

    def check(self, url: str) -> Target:
        """Resolve the URL's host and check every address; the target to connect to.

        Raises UrlRefused naming the reason (also when the host does not resolve)."""
        scheme, host, port, path = self._parts(url)
        try:
            literal: IpAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = list(self.resolver(host, port))
            except (OSError, UnicodeError) as error:
                raise UrlRefused(f"the host {host!r} does not resolve: {error}") from None
        if not addresses:
            raise UrlRefused(f"the host {host!r} does not resolve")
        for address in addresses:
            self._check_address(host, address)
        return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])

    def address_allowed(self, address: IpAddress) -> bool:
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None:
            address = mapped
        if any(address in network for network in self.allowed_networks):
            return True
        return address.is_global and not address.is_multicast

    def _check_address(self, host: str, address: str) -> None:
        try:
            parsed = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            raise UrlRefused(f"the host {host!r} resolves to {address!r}") from None
        if not self.address_allowed(parsed):
            raise UrlRefused(
                f"the host {host!r} resolves to {parsed}, a loopback, private, link-local or"
                " otherwise non-public address: webhooks go to public addresses only"
            )

    def _parts(self, url: str) -> tuple[str, str, int, str]:
        if len(url) > MAX_URL_LENGTH:
            raise UrlRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise UrlRefused(f"the URL is malformed: {error}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise UrlRefused("the URL must start with https:// (or http:// outside production)")
        if scheme == "http" and self.require_https:
            raise UrlRefused("the URL must use https")
        if parts.username is not None or parts.password is not None:
            raise UrlRefused("the URL must not carry a user name or password")
        host = parts.hostname
        if not host:
            raise UrlRefused("the URL has no host")
        if any(c.isspace() or ord(c) < 32 for c in url):
            raise UrlRefused("the URL must not contain spaces or control characters")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return scheme, host, port or (443 if scheme == "https" else 80), path

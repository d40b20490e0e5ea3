"""One POST to a checked address: the standard library's ``http.client``, which never follows
redirects (a 3xx is an answer like any other, and counts as a failure), with a time limit.

The connection goes to ``Target.address``, the address ``addresses.UrlPolicy`` checked, while
the Host header and TLS (server name and certificate) use the URL's host name.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from adapters.webhooks_out.addresses import Target

RESPONSE_KEPT = 2048  # bytes of the receiver's answer kept in the delivery log


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str  # the first RESPONSE_KEPT bytes, decoded leniently
    duration_ms: int


class _PinnedHttp(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.pinned = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned, self.port), self.timeout)


class _PinnedHttps(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self.pinned = target.address
        self.tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self.pinned, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST ``body``; the answer, or OSError (refused, reset, timed out, TLS failure)."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHttps(target, timeout, ssl.create_default_context())
    else:
        connection = _PinnedHttp(target, timeout)
    started = time.monotonic()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        kept = response.read(RESPONSE_KEPT)
    except http.client.HTTPException as error:  # a malformed answer: a failure like any other
        raise OSError(f"bad HTTP answer: {error!r}") from error
    finally:
        connection.close()
    duration_ms = round((time.monotonic() - started) * 1000)
    return Answer(response.status, kept.decode("utf-8", "replace"), duration_ms)

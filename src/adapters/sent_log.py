"""Which emails went out, so a job that runs twice sends each email once.

A key (``<cause>:<recipient>``) is *claimed* before sending, for a short lease, and *marked
sent* after; a failed send releases it so the retry sends. A worker killed between claim and
send leaves a claim that lapses after the lease, and the retried job sends then.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis

SENT_TTL_SECONDS = 30 * 24 * 3600  # longer than any retry or redelivery window
LEASE_SECONDS = 300


class SentLog(Protocol):
    def claim(self, key: str) -> bool:
        """True if the caller may send now (never sent, not being sent)."""
        ...

    def mark_sent(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...


class RedisSentLog:
    def __init__(self, client: redis.Redis, *, prefix: str = "hourbook:") -> None:
        self.client = client
        self.prefix = prefix

    def claim(self, key: str) -> bool:
        return bool(self.client.set(self._key(key), "sending", nx=True, ex=LEASE_SECONDS))

    def mark_sent(self, key: str) -> None:
        self.client.set(self._key(key), "sent", ex=SENT_TTL_SECONDS)

    def release(self, key: str) -> None:
        self.client.delete(self._key(key))

    def _key(self, key: str) -> str:
        return f"{self.prefix}sent:{key}"


class InMemorySentLog:
    """For the embedded runner: one process, so a dict under a lock is enough."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        with self._lock:
            state, since = self._entries.get(key, ("", 0.0))
            if state == "sent" or (state == "sending" and time.monotonic() - since < LEASE_SECONDS):
                return False
            self._entries[key] = ("sending", time.monotonic())
            return True

    def mark_sent(self, key: str) -> None:
        with self._lock:
            self._entries[key] = ("sent", time.monotonic())

    def release(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

"""Which emails went out, so a job that runs twice sends each email once.

A key (``<cause>:<position>:<recipient>``) is *claimed* before sending, for a short lease, and
*marked sent* after; a failed send releases it so the retry sends. A worker killed between claim
and send leaves a claim that lapses after the lease, and the retried job sends then.

The runners use :class:`SqlSentLog`: the log lives in the database (``sent_emails``), so it
outlives a Redis that comes back empty, when the relay re-hands the jobs Redis lost
(``adapters.jobs.outbox_relay``) and they run again. With Redis, :class:`CachedSentLog` puts it in
front as a cache of the keys sent. :class:`RedisSentLog` and :class:`InMemorySentLog` remain
for tests and tools.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import redis
from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.errors import storage_errors
from adapters.sql.tables import sent_emails

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


KEY_LENGTH = 255  # longer keys (a very long address) are stored as their digest


class SqlSentLog:
    """The sent log in the database: the truth, whatever happens to Redis.

    A claim inserts the key (``ON CONFLICT DO NOTHING``: one of two concurrent claims wins) or
    takes over a claim whose lease ran out; a key marked sent is never claimed again until the
    purge removes it (``jobs.purge_expired_records``, 30 days after its claim)."""

    def __init__(
        self,
        engine: Engine,
        *,
        lease_seconds: float = LEASE_SECONDS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.lease = timedelta(seconds=lease_seconds)
        self.now = now

    def claim(self, key: str) -> bool:
        stored, now = self._stored(key), self.now()
        with storage_errors(), self.engine.begin() as connection:
            if self._insert(connection, stored, now):
                return True
            taken_over = connection.execute(
                update(sent_emails)
                .where(
                    sent_emails.c.key == stored,
                    sent_emails.c.sent_at.is_(None),
                    sent_emails.c.claimed_at <= now - self.lease,
                )
                .values(claimed_at=now)
            ).rowcount
        return bool(taken_over)

    def mark_sent(self, key: str) -> None:
        stored, now = self._stored(key), self.now()
        with storage_errors(), self.engine.begin() as connection:
            if not self._insert(connection, stored, now, sent=True):
                connection.execute(
                    update(sent_emails).where(sent_emails.c.key == stored).values(sent_at=now)
                )

    def release(self, key: str) -> None:
        with storage_errors(), self.engine.begin() as connection:
            connection.execute(
                delete(sent_emails).where(
                    sent_emails.c.key == self._stored(key), sent_emails.c.sent_at.is_(None)
                )
            )

    def was_sent(self, key: str) -> bool:
        query = select(sent_emails.c.sent_at).where(sent_emails.c.key == self._stored(key))
        with storage_errors(), self.engine.connect() as connection:
            return connection.scalar(query) is not None

    @staticmethod
    def _stored(key: str) -> str:
        if len(key) <= KEY_LENGTH:
            return key
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def _insert(connection: Connection, key: str, now: datetime, *, sent: bool = False) -> bool:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(sent_emails)
            .values(key=key, claimed_at=now, sent_at=now if sent else None)
            .on_conflict_do_nothing(index_elements=[sent_emails.c.key])
            .returning(sent_emails.c.key)
        )
        return connection.execute(statement).first() is not None


class CachedSentLog:
    """The database's sent log with Redis in front, as a cache of the keys marked sent.

    A key Redis knows as sent is not claimed, even if the database lost it (restored from a
    backup taken before the send); anything else, and everything while Redis cannot be reached,
    is the database's to answer. Redis coming back empty loses only the cache."""

    def __init__(self, truth: SentLog, cache: redis.Redis, *, prefix: str = "hourbook:") -> None:
        self.truth = truth
        self.cache = cache
        self.prefix = prefix

    def claim(self, key: str) -> bool:
        try:
            if self.cache.get(self._key(key)) == b"sent":
                return False
        except redis.RedisError:
            pass  # the database knows
        return self.truth.claim(key)

    def mark_sent(self, key: str) -> None:
        self.truth.mark_sent(key)
        with contextlib.suppress(redis.RedisError):
            self.cache.set(self._key(key), "sent", ex=SENT_TTL_SECONDS)

    def release(self, key: str) -> None:
        self.truth.release(key)

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

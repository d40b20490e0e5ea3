"""Idempotency records in the ``idempotency_keys`` table, for deployments without Redis.

Same rules as the in-memory and Redis stores: a claim is an insert that only one caller can
win; an in-flight claim older than the lease (its request crashed) or any record past its TTL
is taken over by a conditional UPDATE that only one caller can win either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.errors import storage_errors
from adapters.sql.tables import idempotency_keys as keys
from booking.errors import IdempotencyKeyReused, RequestInProgress
from booking.ports import IDEMPOTENCY_LEASE, IDEMPOTENCY_TTL, Clock, StoredResponse

_ATTEMPTS = 3  # a record can vanish between our insert and our read (released meanwhile)


class SqlIdempotencyStore:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        ttl: timedelta = IDEMPOTENCY_TTL,
        lease: timedelta = IDEMPOTENCY_LEASE,
    ) -> None:
        if not timedelta(0) < lease <= ttl:
            raise ValueError("the lease must be positive and no longer than the TTL")
        self.engine = engine
        self.clock = clock
        self.ttl = ttl
        self.lease = lease

    def claim(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        for _ in range(_ATTEMPTS):
            now = self.clock.now()
            with self._transaction() as connection:
                if self._insert(connection, scope, key, fingerprint, now):
                    return None
                if self._take_over(connection, scope, key, fingerprint, now):
                    return None
                row = connection.execute(
                    select(keys.c.fingerprint, keys.c.response).where(*_the(scope, key))
                ).first()
            if row is None:
                continue
            if row.fingerprint != fingerprint:
                raise IdempotencyKeyReused("this idempotency key was used for another request")
            if row.response is None:
                raise RequestInProgress("a request with this idempotency key is still running")
            return StoredResponse(row.response)
        raise RequestInProgress("the idempotency key is changing hands; try again")

    def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        with self._transaction() as connection:
            connection.execute(update(keys).where(*_the(scope, key)).values(response=response.body))

    def release(self, scope: str, key: str) -> None:
        """Forget an in-flight claim; a completed record stays for replay."""
        with self._transaction() as connection:
            connection.execute(delete(keys).where(*_the(scope, key), keys.c.response.is_(None)))

    def purge_expired(self, now: datetime) -> int:
        """Delete records past their TTL; returns how many went."""
        with self._transaction() as connection:
            return connection.execute(delete(keys).where(keys.c.expires_at <= now)).rowcount

    def _insert(
        self, connection: Connection, scope: str, key: str, fingerprint: str, now: datetime
    ) -> bool:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(keys)
            .values(
                scope=scope, key=key, fingerprint=fingerprint, response=None,
                claimed_at=now, expires_at=now + self.ttl,
            )
            .on_conflict_do_nothing(index_elements=[keys.c.scope, keys.c.key])
            .returning(keys.c.scope)  # a row back means ours was inserted
        )
        return connection.execute(statement).first() is not None

    def _take_over(
        self, connection: Connection, scope: str, key: str, fingerprint: str, now: datetime
    ) -> bool:
        # The condition is re-checked on the row we update, so two callers cannot both win:
        # the loser finds the winner's fresh claim, which is neither expired nor stale.
        stale = or_(
            keys.c.expires_at <= now,
            keys.c.response.is_(None) & (keys.c.claimed_at <= now - self.lease),
        )
        result = connection.execute(
            update(keys)
            .where(*_the(scope, key), stale)
            .values(
                fingerprint=fingerprint, response=None, claimed_at=now, expires_at=now + self.ttl
            )
        )
        return result.rowcount == 1

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with storage_errors(), self.engine.begin() as connection:
            yield connection


def _the(scope: str, key: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (keys.c.scope == scope, keys.c.key == key)

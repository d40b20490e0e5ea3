"""The revocation list cached in Redis, in front of the durable one in the database.

The database (``SqlRevokedTokens``) is the record: every revocation is written there first, so
a logout survives Redis losing its data. Redis holds a copy, so that checking a token (every
authenticated request) is one round trip to Redis instead of a query:

- ``revoked:<id>`` for each revoked token or family id, expiring with the token;
- ``valid-after:<account>`` for each "log out everywhere" cut-off;
- ``revocations-loaded``, present only while the copy is complete.

A missing key means "not revoked" only while ``revocations-loaded`` is there. After a flush or
a restart it is gone: the next check loads the whole list from the database again. The marker
also expires every ``reload_after`` seconds, which bounds how long a copy can stay incomplete
in any case this process could not see (another process's write that failed to reach Redis).
When Redis cannot be reached, checks and revocations go to the database alone, and this
process drops the marker as soon as Redis answers again: revocations made meanwhile are then
loaded, not missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from uuid import UUID

import redis

from adapters.sql.users import SqlRevokedTokens

logger = logging.getLogger(__name__)

_CUT_OFF_SECONDS = 400 * 24 * 3600  # longer than any token lives (refresh tokens: 365 days)


class CachedRevokedTokens:
    def __init__(
        self,
        durable: SqlRevokedTokens,
        client: redis.Redis,
        *,
        prefix: str = "hourbook:",
        reload_after: int = 600,
    ) -> None:
        self.durable = durable
        self.client = client
        self.prefix = prefix
        self.reload_after = reload_after
        self._stale = False  # Redis failed us: its copy may miss what went to the database

    def revoke(self, jti: str, expires_at: datetime) -> bool:
        first = self.durable.revoke(jti, expires_at)
        seconds = int((expires_at - datetime.now(UTC)).total_seconds()) + 1
        if seconds > 0:
            self._cache(lambda: self.client.set(self._revoked(jti), b"1", ex=seconds))
        return first

    def start_family(
        self, family_id: str, account_id: UUID, refresh_jti: str, expires_at: datetime
    ) -> None:
        self.durable.start_family(family_id, account_id, refresh_jti, expires_at)

    def rotate(self, family_id: str, presented: str, successor: str, expires_at: datetime) -> bool:
        return self.durable.rotate(family_id, presented, successor, expires_at)

    def revoke_all(self, account_id: UUID, valid_after: datetime) -> None:
        self.durable.revoke_all(account_id, valid_after)
        stamp = valid_after.timestamp()
        self._cache(
            lambda: self.client.set(
                self._valid_after(account_id), repr(stamp), ex=_CUT_OFF_SECONDS
            )
        )

    def is_revoked(self, ids: Sequence[str], account_id: UUID, issued_at: datetime) -> bool:
        try:
            if self._stale:
                self.client.delete(self._loaded())
                self._stale = False
                logger.warning("Redis answers again: reloading the revocation list")
            loaded, cut_off, *listed = self.client.mget(
                [self._loaded(), self._valid_after(account_id), *map(self._revoked, ids)]
            )
            if loaded is None:
                self._reload()
                return self.durable.is_revoked(ids, account_id, issued_at)
        except redis.RedisError as error:
            self._went_away(error)
            return self.durable.is_revoked(ids, account_id, issued_at)
        if any(value is not None for value in listed):
            return True
        return cut_off is not None and issued_at.timestamp() <= float(cut_off)

    def _reload(self) -> None:
        now = datetime.now(UTC)
        revoked, cut_offs = self.durable.active(now)
        pipe = self.client.pipeline(transaction=False)
        for jti, expires_at in revoked:
            seconds = int((expires_at - now).total_seconds()) + 1
            pipe.set(self._revoked(jti), b"1", ex=max(seconds, 1))
        for account_id, valid_after in cut_offs:
            pipe.set(
                self._valid_after(account_id), repr(valid_after.timestamp()), ex=_CUT_OFF_SECONDS
            )
        pipe.set(self._loaded(), b"1", ex=self.reload_after)
        pipe.execute()
        logger.info(
            "revocation list loaded into Redis: %d token ids, %d cut-offs",
            len(revoked), len(cut_offs),
        )

    def _cache(self, write: Callable[[], object]) -> None:
        try:
            write()
        except redis.RedisError as error:
            self._went_away(error)

    def _went_away(self, error: redis.RedisError) -> None:
        if not self._stale:
            logger.warning(
                "Redis (revocation cache) cannot be reached, checking tokens in the database: %s",
                error,
            )
        self._stale = True

    def _revoked(self, token_id: str) -> str:
        return f"{self.prefix}revoked:{token_id}"

    def _valid_after(self, account_id: UUID) -> str:
        return f"{self.prefix}valid-after:{account_id}"

    def _loaded(self) -> str:
        return f"{self.prefix}revocations-loaded"

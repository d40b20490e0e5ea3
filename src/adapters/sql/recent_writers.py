"""Who wrote a moment ago: their reads go to the primary, so they read their own writes.

One key per account, ``<prefix>wrote:<account id>``, set after each of their writes and
expiring after the read-your-writes window. It lives in Redis so that every API process sees
it, whichever one served the write. Redis failing never fails a request: a mark that cannot be
set is logged (that caller may read a standby's older copy for up to the lag bound), and a
mark that cannot be read counts as present (the primary always has the write).
"""

from __future__ import annotations

import logging
from uuid import UUID

import redis

logger = logging.getLogger(__name__)


class RecentWriters:
    def __init__(self, client: redis.Redis, *, prefix: str, window_seconds: float) -> None:
        self.client = client
        self.prefix = prefix
        self.window_ms = max(int(window_seconds * 1000), 1)

    def wrote(self, account_id: UUID) -> None:
        try:
            self.client.set(self._key(account_id), b"1", px=self.window_ms)
        except redis.RedisError:
            logger.warning(
                "read-your-writes: could not mark account %s as a recent writer in Redis",
                account_id, exc_info=True,
            )

    def wrote_recently(self, account_id: UUID) -> bool:
        try:
            return bool(self.client.exists(self._key(account_id)))
        except redis.RedisError:
            return True

    def _key(self, account_id: UUID) -> str:
        return f"{self.prefix}wrote:{account_id}"

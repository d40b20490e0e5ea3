"""The token revocation list in Redis: one key per revoked token id, expiring with the token."""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from booking.errors import StorageUnavailable


class RedisRevokedTokens:
    def __init__(self, client: redis.Redis, *, prefix: str = "hourbook:") -> None:
        self.client = client
        self.prefix = prefix

    def revoke(self, jti: str, expires_at: datetime) -> None:
        seconds = int((expires_at - datetime.now(UTC)).total_seconds()) + 1
        if seconds <= 0:
            return  # already expired: nothing left to revoke
        try:
            self.client.set(self._key(jti), b"1", ex=seconds)
        except redis.RedisError as error:
            raise StorageUnavailable("the revocation list (Redis) cannot be reached") from error

    def is_revoked(self, jti: str) -> bool:
        try:
            return bool(self.client.exists(self._key(jti)))
        except redis.RedisError as error:
            raise StorageUnavailable("the revocation list (Redis) cannot be reached") from error

    def _key(self, jti: str) -> str:
        return f"{self.prefix}revoked:{jti}"

"""Idempotency records in Redis: one key per (scope, idempotency key), expiring after the TTL.

A claim is ``SET key value NX PX ttl``, which only one caller can win. The value is JSON,
``{"fingerprint", "state": "in_flight", "lease_until"}`` and then ``{"fingerprint", "state":
"done", "response"}``. Each operation is one Lua script, so reading a record and replacing it
(taking over a crashed request's claim, completing, releasing) is atomic on the server.

The lease is measured on the injected clock (it is written into the value), the TTL by Redis
itself (``PX``; completing keeps the remaining time).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import redis
from redis.commands.core import Script

from adapters.clock import SystemClock
from booking.errors import IdempotencyKeyReused, RequestInProgress, StorageUnavailable
from booking.ports import IDEMPOTENCY_LEASE, IDEMPOTENCY_TTL, Clock, StoredResponse

_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return {1}
end
local current = redis.call('GET', KEYS[1])
if current then
    local record = cjson.decode(current)
    if record['state'] ~= 'in_flight' or tonumber(record['lease_until']) > tonumber(ARGV[3]) then
        return {0, current}
    end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1}
"""

_COMPLETE = """
local current = redis.call('GET', KEYS[1])
if not current then
    return 0
end
local record = cjson.decode(current)
local done = {fingerprint = record['fingerprint'], state = 'done', response = ARGV[1]}
redis.call('SET', KEYS[1], cjson.encode(done), 'KEEPTTL')
return 1
"""

_RELEASE = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['state'] == 'in_flight' then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisIdempotencyStore:
    def __init__(
        self,
        client: redis.Redis,
        clock: Clock | None = None,
        *,
        ttl: timedelta = IDEMPOTENCY_TTL,
        lease: timedelta = IDEMPOTENCY_LEASE,
        prefix: str = "hourbook:",
    ) -> None:
        if not timedelta(0) < lease <= ttl:
            raise ValueError("the lease must be positive and no longer than the TTL")
        self.clock = clock if clock is not None else SystemClock()
        self.ttl = ttl
        self.lease = lease
        self.prefix = prefix
        self._claim: Script = client.register_script(_CLAIM)
        self._complete: Script = client.register_script(_COMPLETE)
        self._release: Script = client.register_script(_RELEASE)

    def claim(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        now_ms = _ms(self.clock.now().timestamp())
        record = {
            "fingerprint": fingerprint,
            "state": "in_flight",
            "lease_until": now_ms + _ms(self.lease.total_seconds()),
        }
        with _unavailable_as_domain_error():
            answer = self._claim(
                keys=[self._key(scope, key)],
                args=[json.dumps(record), _ms(self.ttl.total_seconds()), now_ms],
            )
        if answer[0] == 1:
            return None
        existing = json.loads(_text(answer[1]))
        if existing["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused("this idempotency key was used for another request")
        if existing["state"] == "in_flight":
            raise RequestInProgress("a request with this idempotency key is still running")
        return StoredResponse(existing["response"])

    def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        with _unavailable_as_domain_error():
            self._complete(keys=[self._key(scope, key)], args=[response.body])

    def release(self, scope: str, key: str) -> None:
        """Forget an in-flight claim; a completed record stays for replay."""
        with _unavailable_as_domain_error():
            self._release(keys=[self._key(scope, key)])

    def _key(self, scope: str, key: str) -> str:
        # The scope's length keeps ("a:b", "c") and ("a", "b:c") apart.
        return f"{self.prefix}idempotency:{len(scope)}:{scope}:{key}"


@contextmanager
def _unavailable_as_domain_error() -> Iterator[None]:
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as error:
        raise StorageUnavailable("the idempotency store (Redis) cannot be reached") from error


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

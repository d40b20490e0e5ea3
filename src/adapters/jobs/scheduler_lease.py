"""A lease in Redis that lets exactly one of several cron schedulers enqueue the periodic jobs.

Every ``hourbook worker`` may run a scheduler; each one calls :meth:`SchedulerLease.hold` before
it enqueues anything. ``hold`` takes the lease if nobody has it (``SET NX PX``) or renews it if
this scheduler already has it (in one Lua script, so a lease that expired and went to another
process is never renewed by mistake). The holder renews well within the lease's life; if it
dies, the lease expires and the next scheduler to ask takes it. A lease lost to a Redis restart
or flush is simply taken again by whichever scheduler asks first.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import cast

import redis

# 1: the caller holds the lease now (renewed or newly taken); 0: someone else holds it.
_HOLD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

LEASE_SECONDS = 30
RENEW_SECONDS = 10  # a third of the lease: two renewals may fail before it is lost


def lease_key(prefix: str) -> str:
    return f"{prefix}scheduler:lease"


def holder_name() -> str:
    """Who holds a lease, readable by an operator: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SchedulerLease:
    def __init__(
        self,
        connection: redis.Redis,
        *,
        prefix: str,
        holder: str | None = None,
        seconds: float = LEASE_SECONDS,
    ) -> None:
        self.connection = connection
        self.key = lease_key(prefix)
        self.holder = holder or holder_name()
        self.milliseconds = int(seconds * 1000)
        self._hold = connection.register_script(_HOLD)
        self._release = connection.register_script(_RELEASE)

    def hold(self) -> bool:
        """Take or renew the lease; True when this holder has it for the next lease period.
        Raises redis.ConnectionError (and TimeoutError) when Redis cannot be reached."""
        return bool(self._hold(keys=[self.key], args=[self.holder, self.milliseconds]))

    def release(self) -> None:
        """Give the lease up at once (on a clean stop), if this holder still has it."""
        self._release(keys=[self.key], args=[self.holder])

    def current_holder(self) -> str | None:
        value = cast(bytes | None, self.connection.get(self.key))
        return value.decode() if value is not None else None

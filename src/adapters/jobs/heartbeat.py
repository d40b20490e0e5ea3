"""When each periodic job last ran to completion: one Redis hash under the deployment's prefix.

The worker records a periodic job's name and the time (Unix seconds) whenever one finishes
without error; ``/metrics`` reads the hash at each scrape (``hourbook_job_last_success``), so an
alert can say "holds have not been expired for five minutes" whichever process is at fault
(scheduler dead, worker stuck, Redis down).
"""

from __future__ import annotations

import time
from typing import cast

import redis


def heartbeat_key(prefix: str) -> str:
    return f"{prefix}jobs:last-success"


class JobHeartbeats:
    def __init__(self, connection: redis.Redis, *, prefix: str) -> None:
        self.connection = connection
        self.key = heartbeat_key(prefix)

    def record(self, job: str, at: float | None = None) -> None:
        self.connection.hset(self.key, job, repr(time.time() if at is None else at))

    def read(self) -> dict[str, float]:
        """Job name to the Unix time it last succeeded (jobs that never ran are absent)."""
        raw = cast(dict[bytes, bytes], self.connection.hgetall(self.key))
        return {name.decode(): float(value) for name, value in raw.items()}

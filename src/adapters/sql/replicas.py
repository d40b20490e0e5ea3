"""Where a read-only unit of work gets its connection: a hot standby if one is fit, else the
primary.

Each checkout from a standby runs one probe on the connection it hands out, so what is judged
is the connection used:

- the server must be in recovery (``pg_is_in_recovery()``): a standby that was promoted, or a
  URL that names some other primary, may have diverged from ours and is never read;
- its replay lag must be within ``max_lag`` seconds. The lag is 0 while the standby has
  replayed all the WAL it received, else the age of the last transaction it replayed (the
  usual measure: it overstates the lag of a standby whose primary was idle, which only sends
  a few more reads to the primary);
- a standby that cannot be reached is not tried again for ``retry_after`` seconds, so a dead
  host costs one connection attempt per process and period, not one per read.

A skipped standby is reported to every listener (``on_skip``: the API counts them in
``hourbook_replica_skipped_total``) on each read it did not serve, and logged when its state
changes (fit → down or lagging, and back), not on every read.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

# One statement: the connection is alive, in recovery, and how far behind (seconds).
_PROBE = text(
    "SELECT pg_is_in_recovery(),"
    " CASE WHEN NOT pg_is_in_recovery() THEN 0"
    "      WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    "      ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
    " END::float8"
)

SkipListener = Callable[[str, str], None]  # (replica name, reason: down | lagging | not_standby)


class Connectable(Protocol):
    def connect(self) -> Connection: ...


@dataclass(eq=False)
class Replica:
    name: str  # host:port/database, never the password: it goes into logs and metrics
    engine: Engine
    retry_at: float = 0.0  # monotonic time before which a down standby is not tried
    state: str = "fit"  # fit | down | lagging | not_standby: what was last logged


@dataclass(eq=False)
class ReadRouting:
    """A ``connect()`` for read-only units of work, spread over the fit standbys in turn."""

    primary: Engine
    replicas: Sequence[Replica]
    max_lag: float
    retry_after: float
    on_skip: list[SkipListener] = field(default_factory=list)
    monotonic: Callable[[], float] = time.monotonic
    _turn: itertools.count[int] = field(default_factory=itertools.count, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def connect(self) -> Connection:
        if self.replicas:
            first = next(self._turn) % len(self.replicas)
            for replica in (*self.replicas[first:], *self.replicas[:first]):
                connection = self._checkout(replica)
                if connection is not None:
                    return connection
        return self.primary.connect()

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.engine.dispose()

    def _checkout(self, replica: Replica) -> Connection | None:
        if self.monotonic() < replica.retry_at:
            self._skip(replica, "down")
            return None
        try:
            connection = replica.engine.connect()
        except DBAPIError:
            self._went_down(replica)
            return None
        try:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            in_recovery, lag = connection.execute(_PROBE).one()
            connection.rollback()  # ends SQLAlchemy's autobegun block; no round trip here
        except DBAPIError:
            connection.close()
            self._went_down(replica)
            return None
        reason = None
        if not in_recovery:
            reason = "not_standby"
        elif lag is None or lag > self.max_lag:  # None: nothing replayed since it started
            reason = "lagging"
        if reason is not None:
            connection.close()
            self._set_state(replica, reason, f"lag {lag}s" if reason == "lagging" else "")
            self._skip(replica, reason)
            return None
        self._set_state(replica, "fit", "")
        return connection

    def _went_down(self, replica: Replica) -> None:
        replica.retry_at = self.monotonic() + self.retry_after
        self._set_state(replica, "down", f"retrying in {self.retry_after:g}s")
        self._skip(replica, "down")

    def _set_state(self, replica: Replica, state: str, detail: str) -> None:
        with self._lock:
            before, replica.state = replica.state, state
        if before == state:
            return
        if state == "fit":
            logger.info("replica %s is fit again: reads go to it", replica.name)
        else:
            logger.warning(
                "replica %s skipped (%s%s): reads go to the primary or another replica",
                replica.name, state, f", {detail}" if detail else "",
            )

    def _skip(self, replica: Replica, reason: str) -> None:
        for listener in self.on_skip:
            listener(replica.name, reason)


def replica_name(engine: Engine) -> str:
    url = engine.url
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"

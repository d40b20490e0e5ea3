"""Bookings per second on non-conflicting slots, and behaviour under heavy contention."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from bench.bookers import BookerFactory
from bench.database import Database
from bench.measure import Latency, Operation, Throughput, closed_loop
from bench.seed import consecutive_starts

CONCURRENCY = (1, 4, 16)


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: float = 4.0  # per measurement
    max_per_client: int = 5_000


def non_conflicting(
    factory: BookerFactory,
    new_professionals: Callable[[int], list[UUID]],
    clients: int,
    first: datetime,
    limits: Limits,
) -> Throughput:
    """Each client books one-hour slots back to back on a professional of its own."""
    professionals = new_professionals(clients)

    def make(index: int) -> Operation:
        book = factory(index)
        starts = consecutive_starts(first)
        professional = professionals[index]

        def operation() -> None:
            if not book(professional, next(starts)):
                raise RuntimeError("a free slot was refused")

        return operation

    return closed_loop(
        clients, make, seconds=limits.seconds, max_per_client=limits.max_per_client
    )


@dataclass(frozen=True, slots=True)
class Contention:
    attempts: int
    booked: int
    conflicts: int
    conflict_latency: Latency
    booked_latency: Latency
    double_bookings: int
    errors: list[str]


# Four one-hour slots starting 30 minutes apart: each overlaps one or two of the others, so at
# most two of them can be held at once, and every round most clients must be refused.
_OFFSETS = tuple(timedelta(hours=10, minutes=30 * k) for k in range(4))


def contention(
    factory: BookerFactory,
    professional: UUID,
    database: Database,
    *,
    clients: int,
    rounds: int,
    first: datetime,
    seed: int = 11,
) -> Contention:
    """Every client tries to book an overlapping slot of one professional at the same moment,
    ``rounds`` times (one day per round); then the database is asked for double bookings."""
    barrier = threading.Barrier(clients)
    booked: list[float] = []
    conflicts: list[float] = []
    errors: list[str] = []

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        try:
            book = factory(index)
        except BaseException:
            barrier.abort()  # the others must not wait for this client
            raise
        for round_ in range(rounds):
            start = first + timedelta(days=round_) + rng.choice(_OFFSETS)
            barrier.wait(timeout=60)
            began = time.perf_counter()
            try:
                won = book(professional, start)
            except Exception as error:  # reported in the results, never hidden
                errors.append(f"{type(error).__name__}: {error}")
                continue
            (booked if won else conflicts).append(time.perf_counter() - began)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Contention(
        attempts=clients * rounds,
        booked=len(booked),
        conflicts=len(conflicts),
        conflict_latency=Latency.of(conflicts),
        booked_latency=Latency.of(booked),
        double_bookings=double_bookings(database, professional),
        errors=errors,
    )


DOUBLE_BOOKINGS = """
SELECT count(*) FROM bookings a JOIN bookings b
  ON a.professional_id = b.professional_id AND a.id < b.id
 AND tstzrange(a.start_time, a.blocked_until, '[)')
  && tstzrange(b.start_time, b.blocked_until, '[)')
WHERE a.professional_id = %s AND a.status <> 'cancelled' AND b.status <> 'cancelled'
"""


def double_bookings(database: Database, professional: UUID) -> int:
    """Pairs of active bookings of ``professional`` whose blocked times overlap."""
    with database.connect() as connection:
        row = connection.execute(DOUBLE_BOOKINGS, (professional,)).fetchone()
    return int(row[0]) if row else -1

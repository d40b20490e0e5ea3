"""Timing helpers: closed-loop load from threads, and latency summaries."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Operation = Callable[[], None]


@dataclass(frozen=True, slots=True)
class Latency:
    """Median and 95th percentile of a sample, in milliseconds."""

    median_ms: float
    p95_ms: float
    count: int

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        if not seconds:
            return cls(float("nan"), float("nan"), 0)
        ordered = sorted(seconds)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(statistics.median(ordered) * 1e3, p95 * 1e3, len(ordered))


@dataclass(slots=True)
class Throughput:
    clients: int
    operations: int
    seconds: float
    errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0


def closed_loop(
    clients: int,
    make_operation: Callable[[int], Operation],
    *,
    seconds: float,
    max_per_client: int,
    warmup: int = 3,
) -> Throughput:
    """Run ``clients`` threads, each repeating its operation back to back, for a bounded time.

    ``make_operation(i)`` runs in thread ``i`` before the clock starts (connections, logins),
    then ``warmup`` operations run unmeasured. Each thread stops at the deadline or after
    ``max_per_client`` operations, whichever comes first. An operation that raises is counted
    as an error, not as done.
    """
    clock = [0.0, 0.0]  # [start, deadline], set by the barrier as the last thread arrives

    def start_clock() -> None:
        clock[0] = time.perf_counter()
        clock[1] = clock[0] + seconds

    ready = threading.Barrier(clients + 1, action=start_clock)
    done = [0] * clients
    errors: list[str] = []

    def client(index: int) -> None:
        try:
            operation = make_operation(index)
            for _ in range(warmup):
                operation()
        except Exception as error:
            errors.append(f"setup: {type(error).__name__}: {error}")
            ready.wait()
            return
        ready.wait()
        count = 0
        while count < max_per_client and time.perf_counter() < clock[1]:
            try:
                operation()
            except Exception as error:  # counted and reported; the load goes on
                errors.append(f"{type(error).__name__}: {error}")
                if len(errors) > 50:
                    break
            else:
                count += 1
        done[index] = count

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    for thread in threads:
        thread.join()
    return Throughput(clients, sum(done), time.perf_counter() - clock[0], errors)


def timed(operation: Callable[[], object], repeat: int) -> list[float]:
    """Seconds taken by each of ``repeat`` runs of ``operation``."""
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - began)
    return samples

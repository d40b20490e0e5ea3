"""CPU time spent by each part of the system during a measurement, read from ``/proc`` (Linux).

Throughput on a shared two-core machine is bounded by the CPU that every process spends per
request: the API processes, PostgreSQL's backends, Redis, and the load generator itself. Split
that way, a ratio to a floor says where the difference is, not only how big it is.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PARTS = ("API processes", "PostgreSQL", "Redis", "load generator")
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class CpuUse:
    """Seconds of CPU by part, filled in when the ``measuring`` block ends."""

    seconds: Counter[str] = field(default_factory=Counter)

    def ms_per(self, operations: float) -> dict[str, float]:
        return {part: self.seconds[part] / operations * 1e3 for part in PARTS}


def available() -> bool:
    return Path("/proc/self/stat").exists()


@contextmanager
def measuring(server_pid: int) -> Iterator[CpuUse]:
    """CPU used inside the block by the server ``server_pid`` and its workers, PostgreSQL,
    Redis and this process; processes that start or end inside the block are counted for the
    part of their life that /proc still shows."""
    use = CpuUse()
    before = _snapshot(server_pid)
    yield use
    after = _snapshot(server_pid)
    for pid, (part, ticks) in after.items():
        spent = ticks - before.get(pid, (part, 0))[1]
        if spent > 0:
            use.seconds[part] += spent / _TICKS_PER_SECOND


def _snapshot(server_pid: int) -> dict[int, tuple[str, int]]:
    found: dict[int, tuple[str, int]] = {}
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, parent = int(entry.name), int(fields[1])
        part = _part(pid, parent, name, me, server_pid)
        if part is not None:
            found[pid] = (part, int(fields[11]) + int(fields[12]))  # utime + stime
    return found


def _part(pid: int, parent: int, name: str, me: int, server_pid: int) -> str | None:
    if server_pid in (pid, parent):
        return "API processes"
    if name.startswith("postgres"):
        return "PostgreSQL"
    if name.startswith("redis"):
        return "Redis"
    if pid == me:
        return "load generator"
    return None

"""A process's memory of professionals' weekly windows and days off, by id and version.

A professional's windows and days off are written only with the professional itself, and every
such write bumps its ``version`` (``SqlProfessionals.update``), so the children of one
``(id, version)`` never change once committed. Searches and bookings read the professional's
row anyway; with this cache they skip the two statements that load its children whenever the
row's version is one they have seen. Only what a unit of work read without writing that
professional is remembered: a version written by a transaction that then rolls back could be
written again later with other children.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from uuid import UUID

from booking.model import AvailabilityWindow, TimeOff

Children = tuple[tuple[AvailabilityWindow, ...], tuple[TimeOff, ...]]
Key = tuple[UUID, int]  # (professional id, version)


class ChildrenCache:
    """Least recently used first out; safe to share between threads."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._entries: OrderedDict[Key, Children] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> Children | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Key, children: Children) -> None:
        with self._lock:
            self._entries[key] = children
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

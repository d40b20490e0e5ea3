"""A process's memory of professionals, by id and version.

Every write of a professional, its weekly windows and days off included, bumps its ``version``
(``SqlProfessionals.update``), so what one ``(id, version)`` holds never changes once committed.
Searches and bookings read a professional's id and version anyway; with this cache they skip
building it (and the two statements that load its windows and days off) whenever they have seen
that version. Only what a unit of work read without writing that professional is remembered: a
version written by a transaction that then rolls back could be written again later with other
values.

Each caller gets a shallow copy of its own: a ``Professional``'s fields hold immutable values
(strings, numbers, tuples, frozen dataclasses), so a use case that changes one of its copies
changes nothing remembered.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from uuid import UUID

from booking.model import Professional

Key = tuple[UUID, int]  # (professional id, version)


class ProfessionalCache:
    """Least recently used first out; safe to share between threads."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._entries: OrderedDict[Key, Professional] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> Professional | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
        return copy.copy(found)

    def put(self, professional: Professional) -> None:
        key = (professional.id, professional.version)
        kept = copy.copy(professional)
        with self._lock:
            self._entries[key] = kept
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

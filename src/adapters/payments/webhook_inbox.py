"""The webhook inbox contract, and its in-memory implementation (unit tests, embedding).

An inbox remembers which provider events were applied. Its units of work mark the event in
their first commit, atomically with the change (``adapters.sql.webhook_events`` for SQL).
"""

from __future__ import annotations

import threading
from typing import Protocol

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.sql.webhook_events import AlreadyProcessed
from booking.ports import UnitOfWork


class EventUnitOfWork(UnitOfWork, Protocol):
    marked: bool  # a commit marked the event: applying it changed something


class WebhookInbox(Protocol):
    def seen(self, event_id: str) -> bool: ...

    def unit_of_work(self, event_id: str, event_type: str) -> EventUnitOfWork:
        """A unit of work whose first commit marks the event, or raises AlreadyProcessed."""
        ...

    def record(self, event_id: str, event_type: str) -> bool:
        """Mark an event that changed nothing; False if it was marked before."""
        ...


class InMemoryWebhookInbox:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.processed: dict[str, str] = {}
        self._lock = threading.Lock()

    def seen(self, event_id: str) -> bool:
        return event_id in self.processed

    def unit_of_work(self, event_id: str, event_type: str) -> EventUnitOfWork:
        return _MarkingUnitOfWork(self, event_id, event_type)

    def record(self, event_id: str, event_type: str) -> bool:
        with self._lock:
            if event_id in self.processed:
                return False
            self.processed[event_id] = event_type
            return True


class _MarkingUnitOfWork(InMemoryUnitOfWork):
    def __init__(self, inbox: InMemoryWebhookInbox, event_id: str, event_type: str) -> None:
        super().__init__(inbox.store)
        self.inbox = inbox
        self.event_id = event_id
        self.event_type = event_type
        self.marked = False

    def commit(self) -> None:
        if self.marked:
            super().commit()
            return
        # Holding the inbox lock across the commit makes "mark + change" one step.
        with self.inbox._lock:
            if self.event_id in self.inbox.processed:
                self.rollback()
                raise AlreadyProcessed(self.event_id)
            super().commit()
            self.inbox.processed[self.event_id] = self.event_type
        self.marked = True

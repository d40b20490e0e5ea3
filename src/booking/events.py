"""Domain events: facts, named in the past tense, recorded by aggregates as they change.

The unit of work collects them after a successful commit (and, with a database, writes them to
the outbox in the same transaction) so that emails and calendar updates follow every change
exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    booking_id: UUID
    occurred_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingRequested(Event):
    professional_id: UUID
    client_id: UUID
    start: datetime
    end: datetime
    total_price_cents: int
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingConfirmed(Event):
    professional_id: UUID
    client_id: UUID
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingCancelled(Event):
    professional_id: UUID
    client_id: UUID
    start: datetime
    end: datetime
    reason: str
    was_confirmed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingRescheduled(Event):
    """The booking moved from ``previous_start``-``previous_end`` to ``start``-``end``, keeping
    its price, payment and terms; ``sequence`` is its calendar entry's new SEQUENCE."""

    professional_id: UUID
    client_id: UUID
    previous_start: datetime
    previous_end: datetime
    start: datetime
    end: datetime
    sequence: int
    was_confirmed: bool
    by: str  # client, professional or admin


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundIssued(Event):
    payment_intent_id: str
    amount_cents: int
    currency: str

"""Payment incidents: money that did not arrive as a booking's price, and disputes.

A success that cannot pay for its booking (an intent the booking did not open, or an amount or
currency other than the booking's price) is a *stray payment*: the booking is left as it was,
and everything that came in is owed back. A dispute is the client's bank taking the money back
by force; it is recorded, never answered with a refund of ours (that would pay twice). Both wait
for a person: the webhook alerts, and ``hourbook payments incidents`` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from booking.errors import IllegalTransition, InvalidInput
from booking.slot import ensure_aware


class IncidentKind(StrEnum):
    FOREIGN_INTENT = "foreign_intent"  # a success for an intent its booking did not open
    WRONG_AMOUNT = "wrong_amount"  # the amount or currency received is not the price
    DISPUTE = "dispute"  # the client's bank disputes the charge


REFUNDED_IN_FULL = frozenset({IncidentKind.FOREIGN_INTENT, IncidentKind.WRONG_AMOUNT})


@dataclass(kw_only=True, eq=False)
class PaymentIncident:
    """One incident, kept under ``reference``: the intent of a stray payment, or the dispute."""

    reference: str
    kind: IncidentKind
    payment_intent_id: str
    booking_id: UUID | None
    amount_cents: int  # what came in (a stray payment) or is disputed, in ``currency``
    currency: str
    detail: str  # what was expected, or the dispute's status and reason
    refund_due_cents: int
    recorded_at: datetime
    updated_at: datetime
    refunded_cents: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.amount_cents, int) or self.amount_cents < 0:
            raise InvalidInput("an incident's amount must be an integer >= 0")
        if not 0 <= self.refunded_cents <= self.refund_due_cents <= self.amount_cents:
            raise InvalidInput("an incident refunds at most what came in")

    @classmethod
    def stray_payment(
        cls,
        *,
        kind: IncidentKind,
        payment_intent_id: str,
        booking_id: UUID,
        amount_cents: int,
        currency: str,
        detail: str,
        now: datetime,
    ) -> PaymentIncident:
        """Money that came in and cannot pay for its booking: all of it is owed back."""
        if kind not in REFUNDED_IN_FULL:
            raise InvalidInput(f"{kind} is not a stray payment")
        return cls(
            reference=payment_intent_id, kind=kind, payment_intent_id=payment_intent_id,
            booking_id=booking_id, amount_cents=amount_cents, currency=currency,
            detail=detail, refund_due_cents=amount_cents, recorded_at=now, updated_at=now,
        )

    @classmethod
    def dispute(
        cls,
        *,
        dispute_id: str,
        payment_intent_id: str,
        booking_id: UUID | None,
        amount_cents: int,
        currency: str,
        detail: str,
        now: datetime,
    ) -> PaymentIncident:
        """A disputed charge: recorded for a person, with nothing owed back by us."""
        return cls(
            reference=dispute_id, kind=IncidentKind.DISPUTE, payment_intent_id=payment_intent_id,
            booking_id=booking_id, amount_cents=amount_cents, currency=currency,
            detail=detail, refund_due_cents=0, recorded_at=now, updated_at=now,
        )

    @property
    def refund_outstanding_cents(self) -> int:
        return self.refund_due_cents - self.refunded_cents

    def update_detail(self, detail: str, now: datetime) -> None:
        """A later report on the same incident (a dispute won, lost or updated)."""
        self.detail = detail
        self.updated_at = ensure_aware(now, "now")

    def record_refund(self, amount_cents: int, now: datetime) -> None:
        if not isinstance(amount_cents, int) or amount_cents < 1:
            raise InvalidInput("a refund is an integer >= 1")
        if amount_cents > self.refund_outstanding_cents:
            raise IllegalTransition("cannot refund more than came in")
        self.refunded_cents += amount_cents
        self.updated_at = ensure_aware(now, "now")

    def take_in_refunded_total(self, total_cents: int, now: datetime) -> None:
        """The provider reports ``total_cents`` refunded in all for this stray payment."""
        if self.kind not in REFUNDED_IN_FULL:
            raise IllegalTransition("a dispute is not refunded by us")
        if total_cents > self.amount_cents:
            raise IllegalTransition("cannot refund more than came in")
        if total_cents > self.refunded_cents:
            self.refunded_cents = total_cents
            self.updated_at = ensure_aware(now, "now")

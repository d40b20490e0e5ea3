"""Money rules, in integer cents only (see docs/pricing.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.model import CancellationReason, CancellationTerms, Professional, TravelMode

_MINUTE = timedelta(minutes=1)


def price_cents(professional: Professional, duration: timedelta) -> int:
    """Hourly rate × duration, rounded half up to the cent, plus the travel fee for travellers.

    Durations are whole minutes (the policy's granularity guarantees it), so the exact price is
    ``rate × minutes / 60`` cents; we round that once, half up, using integers only.
    """
    minutes = duration // _MINUTE
    time_cents = (professional.hourly_rate_cents * minutes + 30) // 60
    travel = professional.travel_fee_cents if professional.travel_mode is TravelMode.TRAVEL else 0
    return time_cents + travel


def refund_due_cents(
    *,
    paid_cents: int,
    start: datetime,
    now: datetime,
    reason: CancellationReason,
    terms: CancellationTerms,
) -> int:
    """What a cancellation gives back from ``paid_cents``, under the booking's own ``terms``.

    Anything not caused by the client (professional, admin, payment problems) is refunded in
    full. A client who cancels at least ``free_cancellation`` before the start gets everything
    back; later, the terms' percentage, rounded down to the cent. The terms are those agreed
    when the slot was held (``Booking.terms``), never the professional's current policy.
    """
    if reason is not CancellationReason.CLIENT:
        return paid_cents
    if start - now >= terms.free_cancellation:
        return paid_cents
    return paid_cents * terms.late_refund_percent // 100

"""The Calendar aggregate: one professional's rules and the bookings that hold their time.

"A professional is never double-booked" is an invariant over one professional's calendar, so
that calendar is the consistency boundary. Because the invariant is local in time, a calendar
loaded for a time window (every active booking whose blocked time touches it) is complete for
any operation inside that window; the database enforces the same invariant across concurrent
units of work (docs/architecture.md).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from booking.availability import OpenPeriod, open_periods
from booking.errors import (
    DurationOutOfRange,
    InThePast,
    Misaligned,
    OutsideAvailability,
    SlotUnavailable,
    TooFarAhead,
    TooSoon,
)
from booking.events import BookingRequested
from booking.model import Booking, Professional
from booking.pricing import price_cents
from booking.slot import Slot, ensure_aware

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


def _seconds(instant: datetime) -> int:
    return (instant - _EPOCH) // _SECOND


def _instant(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


class Calendar:
    """A professional with the active bookings that matter for one time window."""

    def __init__(self, professional: Professional, bookings: Iterable[Booking]) -> None:
        self.professional = professional
        self.bookings = [b for b in bookings if b.is_active]
        starts_ends = sorted(
            (_seconds(b.blocked.start), _seconds(b.blocked.end)) for b in self.bookings
        )
        self._busy_starts, self._busy_ends = _merge(starts_ends)

    # -- queries ---------------------------------------------------------------------------

    def free_slots(self, span: Slot, duration: timedelta, now: datetime) -> list[Slot]:
        """Every bookable slot of ``duration`` lying wholly inside ``span``, in time order.

        Slots start on the granularity grid of their availability window, respect notice,
        advance and duration limits, avoid time off, and keep the buffer clear of every active
        booking. The scan jumps over busy intervals instead of stepping through them.
        """
        self._check_duration(duration)
        policy = self.professional.policy
        now_s = _seconds(ensure_aware(now, "now"))
        earliest = max(_seconds(span.start), now_s + _whole_seconds(policy.minimum_notice))
        latest_start = now_s + _whole_seconds(policy.maximum_advance)
        dur = _whole_seconds(duration)
        blocked = dur + _whole_seconds(self.professional.buffer_after_booking)
        step = _whole_seconds(policy.granularity)
        span_end = _seconds(span.end)
        found: list[Slot] = []
        for period in self._periods(span):
            origin = _seconds(period.origin)
            last = min(_seconds(period.slot.end), span_end) - dur
            last = min(last, latest_start)
            candidate = _align_up(max(_seconds(period.slot.start), earliest), origin, step)
            while candidate <= last:
                clash = self._first_clash(candidate, candidate + blocked)
                if clash is not None:
                    candidate = _align_up(clash, origin, step)
                    continue
                found.append(Slot(_instant(candidate), _instant(candidate + dur)))
                candidate += step
        return found

    def check(self, slot: Slot, now: datetime) -> None:
        """Raise the domain error that forbids booking ``slot`` now, if any."""
        policy = self.professional.policy
        now = ensure_aware(now, "now")
        self._check_duration(slot.duration)
        if slot.start < now:
            raise InThePast("the requested start is in the past")
        if slot.start < now + policy.minimum_notice:
            raise TooSoon(f"bookings need {_describe(policy.minimum_notice)} notice")
        if slot.start > now + policy.maximum_advance:
            raise TooFarAhead(f"bookings open {_describe(policy.maximum_advance)} ahead")
        period = self._period_containing(slot)
        step = _whole_seconds(policy.granularity)
        if (_seconds(slot.start) - _seconds(period.origin)) % step:
            raise Misaligned(
                f"slots start every {_describe(policy.granularity)} from the window start"
            )
        start = _seconds(slot.start)
        if (
            self._first_clash(
                start,
                start + _whole_seconds(slot.duration + self.professional.buffer_after_booking),
            )
            is not None
        ):
            raise SlotUnavailable("the professional is already booked at that time")

    # -- commands --------------------------------------------------------------------------

    def book(
        self,
        *,
        booking_id: UUID,
        client_id: UUID,
        slot: Slot,
        now: datetime,
        idempotency_key: str | None = None,
    ) -> Booking:
        """Hold ``slot`` for the client as a pending booking, priced by the pricing rule."""
        self.check(slot, now)
        pro = self.professional
        booking = Booking(
            id=booking_id,
            professional_id=pro.id,
            client_id=client_id,
            slot=slot,
            buffer=pro.buffer_after_booking,
            total_price_cents=price_cents(pro, slot.duration),
            currency=pro.currency,
            created_at=now,
            updated_at=now,
            idempotency_key=idempotency_key,
        )
        booking.events.append(
            BookingRequested(
                booking_id=booking.id,
                occurred_at=now,
                professional_id=pro.id,
                client_id=client_id,
                start=slot.start,
                end=slot.end,
                total_price_cents=booking.total_price_cents,
                currency=booking.currency,
            )
        )
        self.bookings.append(booking)
        self._insert_busy(_seconds(booking.blocked.start), _seconds(booking.blocked.end))
        return booking

    # -- internals -------------------------------------------------------------------------

    def _periods(self, span: Slot) -> list[OpenPeriod]:
        pro = self.professional
        return open_periods(pro.availability, pro.time_off, pro.zone, span)

    def _period_containing(self, slot: Slot) -> OpenPeriod:
        for period in self._periods(slot):
            if period.slot.contains(slot):
                return period
        raise OutsideAvailability("the requested time is outside the professional's availability")

    def _check_duration(self, duration: timedelta) -> None:
        policy = self.professional.policy
        if not policy.minimum_duration <= duration <= policy.maximum_duration:
            raise DurationOutOfRange(
                f"duration must be between {_describe(policy.minimum_duration)}"
                f" and {_describe(policy.maximum_duration)}"
            )
        if duration % policy.granularity:
            raise Misaligned(f"duration must be a multiple of {_describe(policy.granularity)}")

    def _first_clash(self, start: int, end: int) -> int | None:
        """The end of the busy interval that ``[start, end)`` overlaps, or None."""
        index = bisect_right(self._busy_ends, start)
        if index < len(self._busy_starts) and self._busy_starts[index] < end:
            return self._busy_ends[index]
        return None

    def _insert_busy(self, start: int, end: int) -> None:
        pairs = sorted([*zip(self._busy_starts, self._busy_ends, strict=True), (start, end)])
        self._busy_starts, self._busy_ends = _merge(pairs)


def _merge(pairs: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sorted disjoint intervals from sorted ones, so their ends are sorted too."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in pairs:
        if ends and start < ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _align_up(instant: int, origin: int, step: int) -> int:
    return origin + -(-(instant - origin) // step) * step


def _whole_seconds(delta: timedelta) -> int:
    return delta // _SECOND


def _describe(delta: timedelta) -> str:
    minutes = delta // timedelta(minutes=1)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} days"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"

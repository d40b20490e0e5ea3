"""The Calendar aggregate: one professional's rules and the bookings that hold their time.

"A professional is never double-booked" is an invariant over one professional's calendar, so
that calendar is the consistency boundary. Because the invariant is local in time, a calendar
loaded for a time window (every active booking whose blocked time touches it) is complete for
any operation inside that window; the database enforces the same invariant across concurrent
units of work (docs/architecture.md).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from heapq import merge
from itertools import groupby, islice, pairwise
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

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
from booking.model import (
    ACTIVE_STATUSES,
    AvailabilityWindow,
    Booking,
    Party,
    Professional,
    TimeOff,
)
from booking.pricing import price_cents
from booking.slot import Slot, ensure_aware

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
# A blocked interval of time: its start and its end, buffer included.
Blocked = tuple[datetime, datetime]
_Instant = TypeVar("_Instant", int, datetime)


def _seconds(instant: datetime) -> int:
    return (instant - _EPOCH) // _SECOND


def _seconds_up(instant: datetime) -> int:
    return -((_EPOCH - instant) // _SECOND)


class Calendar:
    """A professional with the active bookings that matter for one time window."""

    def __init__(self, professional: Professional, bookings: Iterable[Booking]) -> None:
        self.professional = professional
        # ``is_active`` and ``blocked`` spelled out: a property call and a Slot per booking
        # were most of the cost of a calendar with a thousand bookings.
        self.bookings = [b for b in bookings if b.status in ACTIVE_STATUSES]
        self._busy_starts, self._busy_ends = _busy(
            (b.slot.start, b.slot.end + b.buffer) for b in self.bookings
        )

    @classmethod
    def from_blocked(cls, professional: Professional, blocked: Iterable[Blocked]) -> Calendar:
        """A calendar for queries (``free_slots``, ``check``) from the blocked time alone.

        ``blocked`` holds the start and the end (buffer included) of every active booking whose
        blocked time touches the window asked about. Its ``bookings`` list is empty: it knows
        when the professional is busy, not who booked them.
        """
        calendar = cls(professional, ())
        calendar._busy_starts, calendar._busy_ends = _busy(blocked)
        return calendar

    # -- queries ---------------------------------------------------------------------------

    def free_slots(
        self, span: Slot, duration: timedelta, now: datetime, *, limit: int | None = None
    ) -> list[Slot]:
        """Every bookable slot of ``duration`` lying wholly inside ``span``, in time order,
        each once; with ``limit``, only the first ``limit`` of them.

        Slots start on the granularity grid of the availability window they start in and may
        run on into open time abutting it (across midnight, or into a window meeting it); they
        respect notice, advance and duration limits, avoid time off, and keep the buffer clear
        of every active booking. The scan goes from gap to gap between busy intervals, so its
        cost grows with the busy intervals in the span and the slots found, not with the grid
        positions.
        """
        runs = list(self._free_runs_in(span, duration, now))
        return _slots_in(runs, duration, self.professional.policy.granularity, limit)

    def has_free_slot(self, span: Slot, duration: timedelta, now: datetime) -> bool:
        """Whether ``free_slots`` would find any, found by stopping at the first."""
        return next(self._free_runs_in(span, duration, now), None) is not None

    def check(self, slot: Slot, now: datetime) -> None:
        """Raise the domain error that forbids booking ``slot`` now, if any."""
        policy = self.professional.policy
        now = ensure_aware(now, "now")
        self._check_duration(slot.duration)
        if slot.start < now:
            raise InThePast("the requested start is in the past")
        if slot.start < now + policy.minimum_notice:
            raise TooSoon(f"bookings need at least {_notice(policy.minimum_notice)}")
        if slot.start > now + policy.maximum_advance:
            raise TooFarAhead(f"bookings open {_describe(policy.maximum_advance)} ahead")
        step = _whole_seconds(policy.granularity)
        if not any(
            (_seconds(slot.start) - _seconds(period.origin)) % step == 0
            for period in self._periods_admitting(slot)
        ):
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
            terms=pro.policy.cancellation_terms,
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
        self._insert_busy(_seconds(booking.blocked.start), _seconds_up(booking.blocked.end))
        return booking

    def move(self, booking: Booking, slot: Slot, now: datetime, *, by: Party) -> None:
        """Move ``booking`` to ``slot``, checked as a new booking of it would be (availability,
        time off, grid, notice, advance, duration, overlap) with the booking's own current
        time not counting against it; the old time is free again in the same change.

        The booking then blocks what a new booking would: ``slot`` plus today's buffer.
        """
        others = [b for b in self.bookings if b.id != booking.id]
        Calendar(self.professional, others).check(slot, now)
        booking.move_to(slot, buffer=self.professional.buffer_after_booking, now=now, by=by)
        self.bookings = [*others, booking]
        self._busy_starts, self._busy_ends = _busy(
            (b.slot.start, b.slot.end + b.buffer) for b in self.bookings
        )

    # -- internals -------------------------------------------------------------------------

    def _periods_admitting(self, slot: Slot) -> list[OpenPeriod]:
        """The open periods ``slot`` may start in (more than one only where windows stored
        before overlapping ones were refused overlap), or OutsideAvailability."""
        pro = self.professional
        found = [
            period
            for period in open_periods(pro.availability, pro.time_off, pro.zone, slot)
            if period.admits(slot)
        ]
        if not found:
            raise OutsideAvailability(
                "the requested time is outside the professional's availability"
            )
        return found

    def _check_duration(self, duration: timedelta) -> None:
        policy = self.professional.policy
        if not policy.minimum_duration <= duration <= policy.maximum_duration:
            raise DurationOutOfRange(
                f"duration must be between {_describe(policy.minimum_duration)}"
                f" and {_describe(policy.maximum_duration)}"
            )
        if duration % policy.granularity:
            raise Misaligned(f"duration must be a multiple of {_describe(policy.granularity)}")

    def _free_runs_in(self, span: Slot, duration: timedelta, now: datetime) -> Iterator[range]:
        """The free slots' starts as non-empty runs of epoch seconds, in time order."""
        self._check_duration(duration)
        pro = self.professional
        policy = pro.policy
        now = ensure_aware(now, "now")
        dur = _whole_seconds(duration)
        blocked = dur + _whole_seconds(pro.buffer_after_booking)
        step = _whole_seconds(policy.granularity)
        # Rounded inwards, so a fraction of a second never lets in a slot that ``check`` refuses.
        earliest = max(
            _seconds_up(span.start), _seconds_up(now) + _whole_seconds(policy.minimum_notice)
        )
        latest = min(
            _seconds(span.end) - dur, _seconds(now) + _whole_seconds(policy.maximum_advance)
        )
        for origin, open_start, open_end, open_until in _open_seconds(
            tuple(pro.availability), tuple(pro.time_off), pro.zone, span
        ):
            # Starts inside this period; the slot may run on into open time abutting it.
            first = _align_up(max(open_start, earliest), origin, step)
            last = min(open_end - 1, open_until - dur, latest)
            yield from self._free_runs(first, last, step, blocked)

    def _free_runs(self, first: int, last: int, step: int, blocked: int) -> list[range]:
        """Runs of grid positions from ``first`` (on the grid) to ``last`` whose ``blocked``
        seconds touch no busy interval."""
        # The busy intervals that can clash: ending after ``first``, starting before the
        # last slot's buffer ends. Free starts lie in the gaps before, between and after them.
        begin = bisect_right(self._busy_ends, first)
        end = bisect_left(self._busy_starts, last + blocked)
        candidate = first
        runs: list[range] = []
        for busy_start, busy_end in zip(
            self._busy_starts[begin:end], self._busy_ends[begin:end], strict=True
        ):
            if candidate + blocked <= busy_start:
                runs.append(range(candidate, busy_start - blocked + 1, step))
            if busy_end > candidate:  # on to the first grid position after the busy interval
                candidate -= (candidate - busy_end) // step * step
        if candidate <= last:
            runs.append(range(candidate, last + 1, step))
        return runs

    def _first_clash(self, start: int, end: int) -> int | None:
        """The end of the busy interval that ``[start, end)`` overlaps, or None."""
        index = bisect_right(self._busy_ends, start)
        if index < len(self._busy_starts) and self._busy_starts[index] < end:
            return self._busy_ends[index]
        return None

    def _insert_busy(self, start: int, end: int) -> None:
        pairs = [*zip(self._busy_starts, self._busy_ends, strict=True), (start, end)]
        self._busy_starts, self._busy_ends = _merge(pairs)


def _busy(blocked: Iterable[Blocked]) -> tuple[list[int], list[int]]:
    """Blocked intervals as sorted, disjoint intervals of epoch seconds.

    Merged while still datetimes: a calendar full of back-to-back bookings then converts one
    pair per run of bookings instead of one per booking. Ends are rounded up, so a fraction of
    a second of busy time is never offered.
    """
    starts, ends = _merge(blocked)
    return [(start - _EPOCH) // _SECOND for start in starts], [
        -((_EPOCH - end) // _SECOND) for end in ends
    ]


def _merge(pairs: Iterable[tuple[_Instant, _Instant]]) -> tuple[list[_Instant], list[_Instant]]:
    """The union of half-open intervals as sorted disjoint ones (so the ends are sorted too).

    Touching intervals are joined: no slot fits between them anyway.
    """
    ordered = sorted(pairs)
    if not ordered:
        return [], []
    starts: list[_Instant] = []
    ends: list[_Instant] = []
    run_start, run_end = ordered[0]
    for start, end in ordered:
        if start > run_end:
            starts.append(run_start)
            ends.append(run_end)
            run_start, run_end = start, end
        elif end > run_end:
            run_end = end
    starts.append(run_start)
    ends.append(run_end)
    return starts, ends


@lru_cache(maxsize=4096)
def _open_seconds(
    windows: tuple[AvailabilityWindow, ...],
    time_off: tuple[TimeOff, ...],
    zone: ZoneInfo,
    span: Slot,
) -> tuple[tuple[int, int, int, int], ...]:
    """``open_periods`` as (origin, start, end, open_until) epoch seconds, remembered.

    Expanding weekly windows through the time zone is the same work for every professional
    with the same hours and for every repeat of a query, and a search asks it of each
    candidate for one span; everything in the key is immutable.
    """
    return tuple(
        (
            _seconds(period.origin),
            _seconds(period.slot.start),
            _seconds(period.slot.end),
            _seconds(period.open_until),
        )
        for period in open_periods(windows, time_off, zone, span)
    )


def _slots_in(
    runs: list[range], duration: timedelta, step: timedelta, limit: int | None
) -> list[Slot]:
    """Slots of ``duration`` starting at each epoch second of ``runs`` (``step`` apart), in
    time order and each once, at most ``limit`` of them.

    Runs come period by period. Windows stored before overlapping ones were refused can make
    periods overlap; their runs are then merged so that no start is offered twice.

    They are built from UTC instants inside an already checked span, with ``duration`` checked
    positive, so what ``Slot.__init__`` would check for each one holds already; skipping it
    matters when a month of free slots is hundreds of them.
    """
    wanted = sum(map(len, runs)) if limit is None else limit
    if any(a[-1] >= b[0] for a, b in pairwise(runs)):
        starts = islice((start for start, _ in groupby(merge(*runs))), wanted)
        runs = [range(start, start + 1) for start in starts]
    new, put = object.__new__, object.__setattr__
    found: list[Slot] = []
    for run in runs:
        instant = _EPOCH + run.start * _SECOND
        for _ in run[: wanted - len(found)]:
            slot = new(Slot)
            put(slot, "start", instant)
            put(slot, "end", instant + duration)
            found.append(slot)
            instant += step
        if len(found) == wanted:
            break
    return found


def _align_up(instant: int, origin: int, step: int) -> int:
    return origin + -(-(instant - origin) // step) * step


def _whole_seconds(delta: timedelta) -> int:
    return delta // _SECOND


def _describe(delta: timedelta) -> str:
    """A length of time as people say it: "2 hours", "1 day and 30 minutes"."""
    minutes = delta // timedelta(minutes=1)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{count} {unit}{'' if count == 1 else 's'}"
        for count, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if count
    ] or ["0 minutes"]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def describe_length(delta: timedelta) -> str:
    """A length of time as people say it, for messages outside the calendar."""
    return _describe(delta)


def _notice(delta: timedelta) -> str:
    """The possessive for notice: "2 hours' notice", "1 day's notice"."""
    words = _describe(delta)
    return f"{words}' notice" if words.endswith("s") else f"{words}'s notice"

"""The domain model: professionals, clients and bookings, as plain typed Python.

Value objects are frozen; entities are mutable dataclasses whose methods enforce their rules and
record events. Nothing here performs I/O or knows about storage or the web.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking.errors import DurationChangeRefused, IllegalTransition, InvalidInput, InvalidTimeZone
from booking.events import (
    BookingCancelled,
    BookingConfirmed,
    BookingRescheduled,
    Event,
    RefundIssued,
)
from booking.slot import Slot, ensure_aware

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# A phone number: an optional "+", then 6-20 digits, spaces, brackets and dashes. The API states
# the same pattern in its OpenAPI document.
PHONE_FORMAT = r"\+?[0-9 ()-]{6,20}"
_PHONE = re.compile(PHONE_FORMAT)
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# ISO 4217 currencies with two decimal places (a cent is a hundredth) that Stripe takes without
# special rules; lower case, as Stripe writes them. Zero-decimal ones (jpy, krw, ...) have no
# cents and three-decimal ones (kwd, bhd, ...) have mills, so "integer cents" would be wrong for
# them; Stripe has rules of its own for huf, isk and twd. docs/pricing.md lists the set: add a
# currency only if all of this holds for it.
SUPPORTED_CURRENCIES = frozenset(
    {
        "aed", "aud", "brl", "cad", "chf", "czk", "dkk", "eur", "gbp", "hkd", "ils", "inr",
        "mxn", "myr", "nok", "nzd", "php", "pln", "ron", "sek", "sgd", "thb", "usd", "zar",
    }
)  # fmt: skip
# Prices are stored in 32-bit integers (up to 2,147,483,647 cents). The dearest booking is 24
# hours at the top rate plus the top travel fee: 1,200,000,000 + 100,000,000 cents, which fits.
MAX_HOURLY_RATE_CENTS = 50_000_000
MAX_TRAVEL_FEE_CENTS = 100_000_000


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidInput(message)


def _require_int(value: object, name: str, *, minimum: int = 0) -> None:
    _require(
        isinstance(value, int) and not isinstance(value, bool) and value >= minimum,
        f"{name} must be an integer >= {minimum}",
    )


def load_zone(name: str) -> ZoneInfo:
    """The IANA time zone called ``name``, or :class:`InvalidTimeZone`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidTimeZone(f"unknown IANA time zone: {name!r}") from None


class TravelMode(StrEnum):
    LOCAL = "local"  # clients come to the professional
    TRAVEL = "travel"  # the professional goes to the client: travel fee and travel time apply


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lng: float

    def __post_init__(self) -> None:
        _require(-90.0 <= self.lat <= 90.0, "latitude must be between -90 and 90")
        _require(-180.0 <= self.lng <= 180.0, "longitude must be between -180 and 180")


@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilityWindow:
    """A weekly window in the professional's local time: every ``day_of_week`` (Monday = 0).

    ``end == time(0)`` means midnight at the end of the day; a window that crosses midnight is
    written as two windows.
    """

    day_of_week: int
    start: time
    end: time
    is_active: bool = True

    def __post_init__(self) -> None:
        _require(
            isinstance(self.day_of_week, int) and 0 <= self.day_of_week <= 6,
            "day_of_week must be 0 (Monday) to 6 (Sunday)",
        )
        _require(
            self.start.tzinfo is None and self.end.tzinfo is None,
            "availability times are local wall-clock times without an offset",
        )
        _require(
            self.end == time(0) or self.end > self.start,
            "an availability window must end after it starts",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeOff:
    """Whole local days, ``first_day`` to ``last_day`` inclusive, when nothing can be booked."""

    first_day: date
    last_day: date
    reason: str = ""

    def __post_init__(self) -> None:
        _require(self.last_day >= self.first_day, "time off must end on or after its first day")
        _require(len(self.reason) <= 200, "time off reason is at most 200 characters")


@dataclass(frozen=True, slots=True, kw_only=True)
class CancellationTerms:
    """What a client who cancels gets back, as agreed when the slot was held.

    Cancelling at least ``free_cancellation`` before the start gives everything back; later,
    ``late_refund_percent`` of it. The defaults are the default policy's.
    """

    free_cancellation: timedelta = timedelta(hours=24)
    late_refund_percent: int = 50

    def __post_init__(self) -> None:
        _require(
            self.free_cancellation >= timedelta(0)
            and self.free_cancellation % timedelta(minutes=1) == timedelta(0),
            "free_cancellation must be whole minutes, not negative",
        )
        _require(
            isinstance(self.late_refund_percent, int) and 0 <= self.late_refund_percent <= 100,
            "late_refund_percent must be 0-100",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingPolicy:
    """How a professional can be booked. The defaults suit most hourly services."""

    granularity: timedelta = timedelta(minutes=30)
    minimum_notice: timedelta = timedelta(hours=2)
    maximum_advance: timedelta = timedelta(days=90)
    minimum_duration: timedelta = timedelta(hours=1)
    maximum_duration: timedelta = timedelta(hours=8)
    buffer: timedelta = timedelta(0)
    travel_time: timedelta = timedelta(minutes=30)
    free_cancellation: timedelta = timedelta(hours=24)
    late_cancellation_refund_percent: int = 50

    @property
    def cancellation_terms(self) -> CancellationTerms:
        """The terms a booking made now agrees to, kept on it whatever the policy becomes."""
        return CancellationTerms(
            free_cancellation=self.free_cancellation,
            late_refund_percent=self.late_cancellation_refund_percent,
        )

    def __post_init__(self) -> None:
        minute = timedelta(minutes=1)
        _require(
            self.granularity >= minute * 5 and self.granularity % minute == timedelta(0),
            "granularity must be a whole number of minutes, at least 5",
        )
        _require(
            self.minimum_duration >= self.granularity
            and self.minimum_duration % self.granularity == timedelta(0)
            and self.maximum_duration % self.granularity == timedelta(0),
            "durations must be multiples of the granularity",
        )
        _require(self.maximum_duration >= self.minimum_duration, "maximum below minimum duration")
        _require(self.maximum_duration <= timedelta(hours=24), "maximum duration is 24 hours")
        for name in ("minimum_notice", "buffer", "travel_time", "free_cancellation"):
            value: timedelta = getattr(self, name)
            _require(value >= timedelta(0), f"{name} must not be negative")
            _require(value % minute == timedelta(0), f"{name} must be whole minutes")
        _require(self.maximum_advance > self.minimum_notice, "maximum_advance below notice")
        _require(self.maximum_advance <= timedelta(days=730), "maximum_advance is two years")
        _require(
            0 <= self.late_cancellation_refund_percent <= 100,
            "late_cancellation_refund_percent must be 0-100",
        )


@dataclass(kw_only=True)
class Professional:
    id: UUID
    name: str
    email: str
    category: str
    hourly_rate_cents: int
    time_zone: str
    location: Location
    currency: str = "usd"
    travel_mode: TravelMode = TravelMode.LOCAL
    travel_fee_cents: int = 0
    availability: tuple[AvailabilityWindow, ...] = ()
    time_off: tuple[TimeOff, ...] = ()
    policy: BookingPolicy = field(default_factory=BookingPolicy)
    version: int = 1

    def __post_init__(self) -> None:
        _require(0 < len(self.name.strip()) <= 200, "name must be 1-200 characters")
        _require(bool(_EMAIL.match(self.email)), "email is not a valid address")
        _require(bool(_CATEGORY.match(self.category)), "category must be a lowercase slug")
        _require_int(self.hourly_rate_cents, "hourly_rate_cents")
        _require_int(self.travel_fee_cents, "travel_fee_cents")
        _require(
            self.hourly_rate_cents <= MAX_HOURLY_RATE_CENTS,
            f"hourly_rate_cents is at most {MAX_HOURLY_RATE_CENTS}",
        )
        _require(
            self.travel_fee_cents <= MAX_TRAVEL_FEE_CENTS,
            f"travel_fee_cents is at most {MAX_TRAVEL_FEE_CENTS}",
        )
        _require(
            self.currency in SUPPORTED_CURRENCIES,
            f"currency {self.currency!r} is not supported; use one of"
            f" {', '.join(sorted(SUPPORTED_CURRENCIES))}",
        )
        load_zone(self.time_zone)
        self.travel_mode = TravelMode(self.travel_mode)

    @cached_property
    def zone(self) -> ZoneInfo:
        return load_zone(self.time_zone)

    @property
    def buffer_after_booking(self) -> timedelta:
        """Time blocked after each booking: the buffer, plus travel time for travellers."""
        travel = self.policy.travel_time if self.travel_mode is TravelMode.TRAVEL else timedelta(0)
        return self.policy.buffer + travel


@dataclass(kw_only=True)
class Client:
    """Someone who books. ``time_zone`` (IANA) is where they read their messages; without one
    they read times in the professional's zone, where the appointment happens."""

    id: UUID
    name: str
    email: str
    phone: str = ""
    time_zone: str | None = None

    def __post_init__(self) -> None:
        _require(0 < len(self.name.strip()) <= 200, "name must be 1-200 characters")
        _require(bool(_EMAIL.match(self.email)), "email is not a valid address")
        _require(self.phone == "" or bool(_PHONE.fullmatch(self.phone)), "phone is not valid")
        if self.time_zone is not None:
            load_zone(self.time_zone)

    @cached_property
    def zone(self) -> ZoneInfo | None:
        return None if self.time_zone is None else load_zone(self.time_zone)


class BookingStatus(StrEnum):
    PENDING = "pending"  # the slot is held until the payment succeeds or the hold expires
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class CancellationReason(StrEnum):
    CLIENT = "client"
    PROFESSIONAL = "professional"
    ADMIN = "admin"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_ERROR = "payment_error"  # the payment could not even be started
    HOLD_EXPIRED = "hold_expired"


class Party(StrEnum):
    """Who asks for a change to a booking."""

    CLIENT = "client"
    PROFESSIONAL = "professional"
    ADMIN = "admin"


ACTIVE_STATUSES = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED})


@dataclass(kw_only=True, eq=False)
class Booking:
    """The booking aggregate: one client's hold on, then appointment with, a professional."""

    id: UUID
    professional_id: UUID
    client_id: UUID
    slot: Slot
    buffer: timedelta  # time blocked after the slot, fixed when the booking was made
    total_price_cents: int
    currency: str
    created_at: datetime
    updated_at: datetime
    # The cancellation terms agreed when the slot was held; a later policy change leaves them.
    terms: CancellationTerms = field(default_factory=CancellationTerms)
    status: BookingStatus = BookingStatus.PENDING
    cancellation_reason: CancellationReason | None = None
    payment_intent_id: str | None = None
    paid_cents: int = 0  # what the booking's own payment took in (0 until it succeeded)
    refund_due_cents: int = 0  # what the client is owed back, fixed when it was decided
    refunded_cents: int = 0  # what has actually been returned so far
    idempotency_key: str | None = None
    reschedule_count: int = 0  # times moved to another start (Booking.move_to)
    version: int = 1  # owned by the repository: compared and bumped on every update
    events: list[Event] = field(default_factory=list, repr=False)

    @property
    def start(self) -> datetime:
        return self.slot.start

    @property
    def end(self) -> datetime:
        return self.slot.end

    @property
    def is_active(self) -> bool:
        """Pending and confirmed bookings hold their time; cancelled ones free it."""
        return self.status in ACTIVE_STATUSES

    @property
    def blocked(self) -> Slot:
        """The time no other booking of the professional may overlap: slot plus buffer."""
        return self.slot.extended_by(self.buffer)

    @property
    def calendar_sequence(self) -> int:
        """The iCalendar SEQUENCE of this booking's entry: raised by every move and by the
        cancellation, so a calendar keeps the latest version of the one UID."""
        cancelled = 1 if self.status is BookingStatus.CANCELLED else 0
        return self.reschedule_count + cancelled

    def moved_slot(self, start: datetime, duration: timedelta | None = None) -> Slot:
        """The slot this booking would take if moved to ``start``: always its own length.

        A different ``duration`` is refused: the price follows the length, and the payment
        carries over unchanged, so a longer or shorter appointment is a new booking.
        """
        length = self.slot.duration
        if duration is not None and duration != length:
            raise DurationChangeRefused(
                f"a reschedule keeps the booking's {length // timedelta(minutes=1)} minutes:"
                " a price change is a new booking (cancel this one and book again)"
            )
        return Slot.starting(start, length)

    def move_to(self, slot: Slot, *, buffer: timedelta, now: datetime, by: Party) -> None:
        """Take ``slot`` instead of the current one (the calendar has checked it is free).

        Price, payment, cancellation terms and ``created_at`` (so a pending hold's expiry) stay
        as they are; ``buffer`` is what the calendar checked the new slot with.
        """
        if not self.is_active:
            raise IllegalTransition(f"cannot move a {self.status} booking")
        if slot.duration != self.slot.duration:
            raise DurationChangeRefused("a reschedule keeps the booking's length")
        previous = self.slot
        self.slot = slot
        self.buffer = buffer
        self.reschedule_count += 1
        self._touch(now)
        self.events.append(
            BookingRescheduled(
                booking_id=self.id,
                occurred_at=self.updated_at,
                professional_id=self.professional_id,
                client_id=self.client_id,
                previous_start=previous.start,
                previous_end=previous.end,
                start=slot.start,
                end=slot.end,
                sequence=self.calendar_sequence,
                was_confirmed=self.status is BookingStatus.CONFIRMED,
                by=by.value,
            )
        )

    def attach_payment(self, payment_intent_id: str, now: datetime) -> None:
        """Record which payment pays for this booking (a late one may reach a cancelled hold)."""
        if self.status is BookingStatus.CONFIRMED:
            raise IllegalTransition("cannot attach a payment to a confirmed booking")
        if self.payment_intent_id not in (None, payment_intent_id):
            raise IllegalTransition("the booking is already paid through another payment")
        self.payment_intent_id = payment_intent_id
        self._touch(now)

    def take_payment(self, amount_cents: int, now: datetime) -> None:
        """The booking's own payment succeeded for its price.

        The first report confirms a pending booking. A booking that has ended, or whose money
        was already (partly) refunded before the success was reported, is never confirmed: all
        of the payment is owed back. A booking paid before takes nothing more: a repeated report
        (a new event id, a success found again when its intent is released) changes nothing,
        so a refund decided when it was cancelled stays as decided.
        """
        _require_int(amount_cents, "amount paid", minimum=1)
        if self.paid_cents:
            return
        if self.payment_intent_id is None:
            raise IllegalTransition("cannot take a payment for a booking that has none")
        self.paid_cents = amount_cents
        if self.status is BookingStatus.PENDING and self.refunded_cents == 0:
            self.confirm(now)
            return
        self.owe_refund(amount_cents)
        self._touch(now)

    def confirm(self, now: datetime) -> None:
        if self.status is not BookingStatus.PENDING:
            raise IllegalTransition(f"cannot confirm a {self.status} booking")
        self.status = BookingStatus.CONFIRMED
        self._touch(now)
        self.events.append(
            BookingConfirmed(
                booking_id=self.id,
                occurred_at=self.updated_at,
                professional_id=self.professional_id,
                client_id=self.client_id,
                start=self.start,
                end=self.end,
            )
        )

    def cancel(self, reason: CancellationReason, now: datetime, *, refund_cents: int = 0) -> None:
        """Free the slot. ``refund_cents`` is what the client is owed back (0 if nothing paid)."""
        if not self.is_active:
            raise IllegalTransition(f"cannot cancel a {self.status} booking")
        was_confirmed = self.status is BookingStatus.CONFIRMED
        self.owe_refund(refund_cents)
        self.status = BookingStatus.CANCELLED
        self.cancellation_reason = reason
        self._touch(now)
        self.events.append(
            BookingCancelled(
                booking_id=self.id,
                occurred_at=self.updated_at,
                professional_id=self.professional_id,
                client_id=self.client_id,
                start=self.start,
                end=self.end,
                reason=reason.value,
                was_confirmed=was_confirmed,
            )
        )

    def owe_refund(self, amount_cents: int) -> None:
        """Decide that ``amount_cents`` in all goes back to the client; never above the price."""
        _require_int(amount_cents, "refund amount")
        if amount_cents > self.total_price_cents:
            raise IllegalTransition("cannot refund more than the booking's price")
        if amount_cents and self.payment_intent_id is None:
            raise IllegalTransition("cannot refund a booking that has no payment")
        self.refund_due_cents = max(self.refund_due_cents, amount_cents)

    @property
    def refund_outstanding_cents(self) -> int:
        return self.refund_due_cents - self.refunded_cents

    def record_refund(self, amount_cents: int, now: datetime) -> None:
        """Record money returned to the client; never more than is owed."""
        _require_int(amount_cents, "refund amount", minimum=1)
        if amount_cents > self.refund_outstanding_cents:
            raise IllegalTransition("cannot refund more than the client is owed")
        if self.payment_intent_id is None:
            raise IllegalTransition("cannot refund a booking that has no payment")
        self.refunded_cents += amount_cents
        self._touch(now)
        self.events.append(
            RefundIssued(
                booking_id=self.id,
                occurred_at=self.updated_at,
                payment_intent_id=self.payment_intent_id,
                amount_cents=amount_cents,
                currency=self.currency,
            )
        )

    def take_in_refunded_total(self, total_cents: int, now: datetime) -> None:
        """The provider reports ``total_cents`` refunded in all, ours or made in its dashboard.

        What is above the refunds already recorded is recorded now (and owed, so the books
        balance); a report that is not above them is stale or ours, and changes nothing.
        """
        _require_int(total_cents, "refunded total")
        if total_cents <= self.refunded_cents:
            return
        self.owe_refund(total_cents)
        self.record_refund(total_cents - self.refunded_cents, now)

    def _touch(self, now: datetime) -> None:
        self.updated_at = ensure_aware(now, "now")

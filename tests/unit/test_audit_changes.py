"""What the audit log calls a change: the action, and only the shown fields that changed."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, time, timedelta
from uuid import uuid4

from booking.audit import Entity, booking_change, changed, professional_changes
from booking.model import AvailabilityWindow, Booking, CancellationReason, TimeOff
from booking.slot import Slot
from tests.factories import MONDAY, at, make_professional


def pending() -> Booking:
    return Booking(
        id=uuid4(), professional_id=uuid4(), client_id=uuid4(),
        slot=Slot.starting(at(MONDAY, 10), timedelta(hours=1)), buffer=timedelta(0),
        total_price_cents=6000, currency="eur", created_at=MONDAY, updated_at=MONDAY,
    )  # fmt: skip


def test_a_new_booking_is_created_with_all_its_shown_fields_and_no_before() -> None:
    booking = pending()

    change = booking_change(None, booking)

    assert change is not None
    assert (change.entity, change.action, change.before) == (Entity.BOOKING, "created", None)
    assert change.after is not None and change.after["status"] == "pending"
    assert change.professional_id == booking.professional_id


def test_a_paid_hold_is_confirmed_with_only_what_changed() -> None:
    before = replace(pending(), payment_intent_id="pi_1")
    after = copy.copy(before)

    after.take_payment(6000, at(MONDAY, 1))

    change = booking_change(before, after)
    assert change is not None and change.action == "confirmed"
    assert change.before == {"status": "pending", "paid_cents": 0}
    assert change.after == {"status": "confirmed", "paid_cents": 6000}


def test_a_hold_cancelled_for_lapsing_is_expired_and_any_other_cancellation_cancelled() -> None:
    lapsed, withdrawn = pending(), pending()
    expired, cancelled = copy.copy(lapsed), copy.copy(withdrawn)

    expired.cancel(CancellationReason.HOLD_EXPIRED, at(MONDAY, 1))
    cancelled.cancel(CancellationReason.CLIENT, at(MONDAY, 1))

    assert getattr(booking_change(lapsed, expired), "action", None) == "expired"
    assert getattr(booking_change(withdrawn, cancelled), "action", None) == "cancelled"


def test_a_booking_moved_to_another_time_is_rescheduled() -> None:
    before = pending()
    after = replace(before, slot=Slot.starting(at(MONDAY, 14), timedelta(hours=1)))

    change = booking_change(before, after)

    assert change is not None and change.action == "rescheduled"
    assert change.after == {"start": at(MONDAY, 14).isoformat(), "end": at(MONDAY, 15).isoformat()}


def test_a_change_of_no_shown_field_is_no_change() -> None:
    before = pending()
    after = replace(before, payment_intent_id="pi_123")

    assert booking_change(before, after) is None


def test_a_professional_change_is_one_entry_per_part_that_changed() -> None:
    before = make_professional()
    after = replace(
        before,
        hourly_rate_cents=7000,
        time_off=(TimeOff(first_day=date(2026, 7, 1), last_day=date(2026, 7, 2)),),
    )

    changes = professional_changes(before, after)

    assert [(c.entity, c.action) for c in changes] == [
        (Entity.PROFESSIONAL, "changed"), (Entity.TIME_OFF, "changed")
    ]
    assert changes[0].before == {"hourly_rate_cents": 6000}
    assert changes[1].after == {"days_off": ["2026-07-01..2026-07-02"]}


def test_availability_is_shown_day_by_day() -> None:
    before = make_professional()
    window = AvailabilityWindow(day_of_week=2, start=time(8), end=time(0), is_active=False)

    (change,) = professional_changes(before, replace(before, availability=(window,)))

    assert change.entity is Entity.AVAILABILITY
    assert change.after == {"windows": ["2 08:00-00:00 inactive"]}


def test_changed_keeps_a_field_that_was_removed() -> None:
    change = changed(Entity.ACCOUNT, "a", "changed", {"x": 1, "gone": 2}, {"x": 1})

    assert (change.before, change.after) == ({"gone": 2}, {"gone": None})

"""A client keeps only a few unpaid holds at once: 3 in all and 1 per professional by default,
refused with a message that says the cap."""

from __future__ import annotations

from uuid import UUID

import pytest

from booking import catalogue, services
from booking.commands import RecordPaymentSucceeded
from booking.errors import InvalidInput, TooManyHolds
from booking.holds import HoldLimits
from booking.model import BookingStatus
from booking.receipts import BookingReceipt
from tests.factories import make_professional
from tests.unit.conftest import World


def another_professional(world: World, **changes: object) -> UUID:
    return catalogue.register_professional(make_professional(**changes), uow=world.uow).id


def hold(world: World, professional_id: UUID, hour: int = 10, **limits: int) -> BookingReceipt:
    return services.create_booking(
        world.request(hour, professional_id=professional_id),
        uow=world.uow,
        payments=world.payments,
        idempotency=world.idempotency,
        clock=world.clock,
        limits=HoldLimits(**limits),
    )


def test_a_fourth_unpaid_hold_is_refused_and_the_message_says_the_cap(world: World) -> None:
    professionals = [another_professional(world) for _ in range(4)]
    for pro in professionals[:3]:
        hold(world, pro)

    with pytest.raises(TooManyHolds, match="the most allowed is 3"):
        hold(world, professionals[3])

    assert len(world.store.bookings) == 3


def test_a_second_unpaid_hold_with_the_same_professional_is_refused(world: World) -> None:
    pro = another_professional(world)
    hold(world, pro, 10)

    with pytest.raises(TooManyHolds, match="with this professional, the most allowed is 1"):
        hold(world, pro, 13)


def test_a_paid_hold_no_longer_counts(world: World) -> None:
    pro = another_professional(world)
    first = hold(world, pro, 10)
    services.record_payment_succeeded(
        RecordPaymentSucceeded(payment_intent_id=str(first.payment_intent_id)),
        uow=world.uow,
        clock=world.clock,
    )

    second = hold(world, pro, 13)

    assert world.stored(second.booking_id).status is BookingStatus.PENDING


def test_free_bookings_are_never_refused_by_the_caps(world: World) -> None:
    paid = [another_professional(world) for _ in range(3)]
    free = another_professional(world, hourly_rate_cents=0)
    for pro in paid:
        hold(world, pro)

    booked = [hold(world, free, hour) for hour in (10, 12)]

    assert all(world.stored(b.booking_id).status is BookingStatus.CONFIRMED for b in booked)


def test_the_caps_are_settings(world: World) -> None:
    pro = another_professional(world)
    for hour in (9, 11, 13):
        hold(world, pro, hour, per_client=5, per_client_and_professional=3)

    with pytest.raises(TooManyHolds, match="the most allowed is 3"):
        hold(world, pro, 15, per_client=5, per_client_and_professional=3)


@pytest.mark.parametrize(("total", "each"), [(0, 0), (3, 0), (2, 3)])
def test_caps_below_one_or_a_per_professional_cap_above_the_total_are_refused(
    total: int, each: int
) -> None:
    with pytest.raises(InvalidInput):
        HoldLimits(per_client=total, per_client_and_professional=each)

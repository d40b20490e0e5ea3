"""Money is integer cents in a currency that has them: rate × duration, rounded once half up,
plus the travel fee."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.errors import InvalidInput
from booking.model import (
    MAX_HOURLY_RATE_CENTS,
    MAX_TRAVEL_FEE_CENTS,
    SUPPORTED_CURRENCIES,
    CancellationReason,
    TravelMode,
)
from booking.pricing import price_cents, refund_due_cents
from tests.factories import make_professional

rates = st.integers(min_value=0, max_value=10_000_00)
minutes = st.integers(min_value=1, max_value=24 * 60)


@given(rates, minutes)
def test_price_is_the_exact_rate_times_duration_rounded_half_up(rate: int, length: int) -> None:
    pro = make_professional(hourly_rate_cents=rate)

    price = price_cents(pro, timedelta(minutes=length))

    assert isinstance(price, int)
    exact_times_60 = rate * length  # the exact price is this / 60 cents
    assert abs(price * 60 - exact_times_60) <= 30  # within half a cent
    assert price * 60 - exact_times_60 != -30  # a half is rounded up, never down


@given(rates, minutes, minutes)
def test_price_never_falls_when_the_duration_grows(rate: int, a: int, b: int) -> None:
    pro = make_professional(hourly_rate_cents=rate)
    shorter, longer = sorted((a, b))

    assert price_cents(pro, timedelta(minutes=shorter)) <= price_cents(
        pro, timedelta(minutes=longer)
    )


def test_ninety_minutes_at_sixty_dollars_is_ninety_dollars() -> None:
    assert price_cents(make_professional(hourly_rate_cents=6000), timedelta(minutes=90)) == 9000


def test_a_third_of_a_cent_rounds_down_and_a_half_rounds_up() -> None:
    assert price_cents(make_professional(hourly_rate_cents=1), timedelta(minutes=20)) == 0
    assert price_cents(make_professional(hourly_rate_cents=1), timedelta(minutes=30)) == 1


@given(rates, minutes, st.integers(min_value=0, max_value=100_00))
def test_travellers_add_their_travel_fee_once_and_locals_never(
    rate: int, length: int, fee: int
) -> None:
    local = make_professional(hourly_rate_cents=rate, travel_fee_cents=fee)
    traveller = make_professional(
        hourly_rate_cents=rate, travel_fee_cents=fee, travel_mode=TravelMode.TRAVEL
    )
    duration = timedelta(minutes=length)

    assert price_cents(traveller, duration) == price_cents(local, duration) + fee


def test_a_client_cancelling_early_gets_everything_back_and_late_the_policy_share() -> None:
    pro = make_professional()  # free cancellation 24 h before, 50 % after
    start = datetime(2026, 6, 10, 9, tzinfo=UTC)

    early = refund_due_cents(
        paid_cents=9001,
        start=start,
        now=start - timedelta(hours=24),
        reason=CancellationReason.CLIENT,
        terms=pro.policy.cancellation_terms,
    )
    late = refund_due_cents(
        paid_cents=9001,
        start=start,
        now=start - timedelta(hours=23, minutes=59),
        reason=CancellationReason.CLIENT,
        terms=pro.policy.cancellation_terms,
    )

    assert early == 9001
    assert late == 4500  # half, rounded down to the cent


def test_a_professional_cancelling_always_refunds_in_full() -> None:
    start = datetime(2026, 6, 10, 9, tzinfo=UTC)
    refund = refund_due_cents(
        paid_cents=9000,
        start=start,
        now=start - timedelta(minutes=5),
        reason=CancellationReason.PROFESSIONAL,
        terms=make_professional().policy.cancellation_terms,
    )

    assert refund == 9000


# Currencies whose minor unit is not a hundredth (ISO 4217): integer cents mean nothing there.
ZERO_DECIMAL = ["bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
                "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]
THREE_DECIMAL = ["bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"]


def test_no_supported_currency_lacks_cents_or_has_mills() -> None:
    assert SUPPORTED_CURRENCIES.isdisjoint(ZERO_DECIMAL + THREE_DECIMAL)
    assert all(re.fullmatch("[a-z]{3}", code) for code in SUPPORTED_CURRENCIES)


@pytest.mark.parametrize("currency", ["jpy", "krw", "kwd", "xyz", "USD", "eu", "€"])
def test_a_professional_cannot_charge_in_an_unsupported_currency(currency: str) -> None:
    with pytest.raises(InvalidInput, match="not supported"):
        make_professional(currency=currency)


@pytest.mark.parametrize("currency", sorted(SUPPORTED_CURRENCIES))
def test_every_supported_currency_can_be_charged_in(currency: str) -> None:
    assert make_professional(currency=currency).currency == currency


def test_a_rate_above_the_cap_is_refused_by_the_domain_itself() -> None:
    with pytest.raises(InvalidInput, match="hourly_rate_cents is at most 50000000"):
        make_professional(hourly_rate_cents=MAX_HOURLY_RATE_CENTS + 1)


def test_a_travel_fee_above_the_cap_is_refused_by_the_domain_itself() -> None:
    with pytest.raises(InvalidInput, match="travel_fee_cents is at most 100000000"):
        make_professional(travel_fee_cents=MAX_TRAVEL_FEE_CENTS + 1)

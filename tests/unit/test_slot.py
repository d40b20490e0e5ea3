"""The Slot value object: half-open UTC intervals."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.errors import InvalidInput, NaiveDateTime
from booking.slot import Slot

BASE = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def slots(draw: st.DrawFn) -> Slot:
    start = draw(st.integers(min_value=0, max_value=300))
    length = draw(st.integers(min_value=1, max_value=120))
    return Slot(BASE + timedelta(minutes=start), BASE + timedelta(minutes=start + length))


def minutes_of(slot: Slot) -> set[int]:
    first = (slot.start - BASE) // timedelta(minutes=1)
    last = (slot.end - BASE) // timedelta(minutes=1)
    return set(range(first, last))


@given(slots(), slots())
def test_overlap_is_symmetric(a: Slot, b: Slot) -> None:
    assert a.overlaps(b) == b.overlaps(a)


@given(slots(), st.integers(min_value=1, max_value=120))
def test_a_slot_starting_where_another_ends_never_overlaps_it(a: Slot, length: int) -> None:
    after = Slot(a.end, a.end + timedelta(minutes=length))

    assert a.is_adjacent_to(after)
    assert not a.overlaps(after)
    assert not after.overlaps(a)


@given(slots(), slots())
def test_overlap_agrees_with_a_model_of_sets_of_minutes(a: Slot, b: Slot) -> None:
    assert a.overlaps(b) == bool(minutes_of(a) & minutes_of(b))


@given(slots(), slots())
def test_containment_agrees_with_a_model_of_sets_of_minutes(a: Slot, b: Slot) -> None:
    assert a.contains(b) == (minutes_of(b) <= minutes_of(a))


def test_naive_datetimes_are_rejected_with_a_clear_error() -> None:
    with pytest.raises(NaiveDateTime, match="UTC offset"):
        Slot(datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 10, tzinfo=UTC))


def test_a_slot_must_end_after_it_starts() -> None:
    with pytest.raises(InvalidInput):
        Slot(BASE, BASE)


def test_bounds_are_normalised_to_utc_so_equal_instants_are_equal_slots() -> None:
    plus_two = timezone(timedelta(hours=2))
    written_in_berlin_summer = Slot(
        datetime(2026, 1, 1, 11, tzinfo=plus_two), datetime(2026, 1, 1, 12, tzinfo=plus_two)
    )

    assert written_in_berlin_summer == Slot(BASE.replace(hour=9), BASE.replace(hour=10))
    assert written_in_berlin_summer.start.tzinfo is UTC

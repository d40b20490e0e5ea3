"""iCalendar rendering: RFC 5545 line endings, folding, escaping, UTC times, status, sequence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking import ics
from booking.model import BookingStatus, CancellationReason
from tests.unit.conftest import World


def test_a_calendar_uses_crlf_and_wraps_each_booking_in_a_vevent(world: World) -> None:
    receipt = world.book(10)
    booking = world.stored(receipt.booking_id)

    entry = ics.professional_entry(booking, world.client, stamp=booking.updated_at)

    text = ics.render_calendar([entry])

    lines = text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2:] == ["END:VCALENDAR", ""]
    assert "\n" not in text.replace("\r\n", "")
    assert f"UID:{booking.id}" in lines
    assert "DTSTART:20260601T100000Z" in lines and "DTEND:20260601T110000Z" in lines
    assert "STATUS:CONFIRMED" in lines and "SEQUENCE:0" in lines


def test_a_cancelled_booking_is_published_as_cancelled_with_a_higher_sequence(world: World) -> None:
    booking = world.stored(world.book(10).booking_id)
    booking.cancel(CancellationReason.CLIENT, booking.created_at)
    assert booking.status is BookingStatus.CANCELLED

    entry = ics.client_entry(booking, world.professional, stamp=booking.updated_at)

    text = ics.render_calendar([entry])

    assert "STATUS:CANCELLED\r\n" in text and "SEQUENCE:1\r\n" in text


def test_times_with_any_offset_are_written_in_utc() -> None:
    berlin_summer = timezone(timedelta(hours=2))

    assert ics.utc_stamp(datetime(2026, 6, 1, 12, 0, tzinfo=berlin_summer)) == "20260601T100000Z"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        ics.utc_stamp(datetime(2026, 6, 1, 12, 0))  # naive on purpose


def test_text_values_escape_backslashes_separators_and_newlines() -> None:
    assert ics.escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=400))
def test_folded_lines_stay_within_75_octets_and_unfold_to_the_original(value: str) -> None:
    line = f"SUMMARY:{ics.escape_text(value)}"

    folded = ics.fold(line)

    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def test_a_long_multibyte_summary_is_folded_between_characters() -> None:
    folded = ics.fold("SUMMARY:" + "é" * 60)

    parts = folded.split("\r\n")
    assert len(parts) == 2 and parts[1].startswith(" ")
    assert all(len(part.encode()) <= 75 for part in parts)


def test_entries_carry_the_stamp_in_utc() -> None:
    stamp = datetime(2026, 6, 1, 9, 30, 15, tzinfo=UTC)
    entry = ics.CalendarEntry(
        uid="x", start=stamp, end=stamp + timedelta(hours=1), summary="s", status="CONFIRMED",
        sequence=0, stamp=stamp,
    )

    assert "DTSTAMP:20260601T093015Z\r\n" in ics.render_calendar([entry])

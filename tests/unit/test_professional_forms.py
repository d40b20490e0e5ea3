"""The professional's forms as the pages read them: amounts to cents, rows of hours to weekly
windows with a sentence per wrong row, copying a day, and a period of time off."""

from __future__ import annotations

from datetime import date, time

from booking.model import AvailabilityWindow, Location, TravelMode
from entrypoints.web.pro_forms import (
    MAX_WINDOWS_A_DAY,
    WeekForm,
    copied_week,
    read_profile,
    read_time_off,
)

PROFILE = {
    "name": "Petra Pro", "category": "massage", "rate": "60.5", "currency": "eur",
    "time_zone": "Europe/Berlin", "city": "Berlin", "travel_mode": "travel", "travel_fee": "7,25",
}  # fmt: skip


def window(day: int, start: int, end: int) -> AvailabilityWindow:
    return AvailabilityWindow(day_of_week=day, start=time(start), end=time(end % 24))


def test_a_complete_profile_form_gives_the_profile_fields_in_cents() -> None:
    values, errors = read_profile(PROFILE)

    assert errors == {}
    assert values["hourly_rate_cents"] == 6050 and values["travel_fee_cents"] == 725
    assert values["travel_mode"] is TravelMode.TRAVEL
    assert values["location"] == Location(52.52, 13.405)


def test_exact_coordinates_replace_the_city_and_half_of_them_is_an_error() -> None:
    values, _ = read_profile({**PROFILE, "lat": "52.5", "lng": "13.3"})
    _, errors = read_profile({**PROFILE, "lat": "52.5"})

    assert values["location"] == Location(52.5, 13.3)
    assert set(errors) == {"lat"}


def test_each_wrong_profile_field_gets_its_own_sentence() -> None:
    wrong = {**PROFILE, "name": " ", "category": "juggling", "rate": "sixty",
             "currency": "xyz", "time_zone": "Mars/Olympus", "city": "Atlantis",
             "travel_mode": "teleport"}  # fmt: skip

    _, errors = read_profile(wrong)

    assert set(errors) == {"name", "category", "rate", "currency", "time_zone", "city",
                           "travel_mode"}  # fmt: skip
    assert errors["rate"] == "Enter an amount like 60 or 60.50."


def test_a_rate_above_the_highest_stored_price_is_refused() -> None:
    _, errors = read_profile({**PROFILE, "rate": "500000.01"})

    assert errors["rate"] == "That price is higher than we can take."


def test_rows_of_hours_become_windows_and_empty_rows_are_left_out() -> None:
    form = {"d0-0-start": "09:00", "d0-0-end": "12:00", "d0-1-start": "", "d0-1-end": "",
            "d0-2-start": "13:00", "d0-2-end": "00:00", "d6-0-start": "08:00:00",
            "d6-0-end": "09:30"}  # fmt: skip
    week = WeekForm.posted(form)

    windows = week.windows()

    assert week.errors == {}
    sunday = AvailabilityWindow(day_of_week=6, start=time(8), end=time(9, 30))
    assert windows == (window(0, 9, 12), window(0, 13, 24), sunday)


def test_a_wrong_row_gets_a_sentence_under_its_own_key() -> None:
    week = WeekForm.posted({
        "d1-0-start": "10:00", "d1-0-end": "09:00",
        "d1-1-start": "11:00", "d1-1-end": "",
        "d2-0-start": "25:00", "d2-0-end": "26:00",
    })  # fmt: skip

    assert week.windows() == ()
    assert week.errors == {
        "d1-0": "The end must be after the start (00:00 means midnight).",
        "d1-1": "Give both a start and an end, or neither.",
        "d2-0": "Enter a time like 09:00.",
    }


def test_overlapping_windows_of_a_day_are_an_error_of_the_day_and_touching_ones_are_not() -> None:
    overlapping = WeekForm.posted({"d3-0-start": "09:00", "d3-0-end": "12:00",
                                   "d3-1-start": "11:00", "d3-1-end": "13:00"})  # fmt: skip
    touching = WeekForm.posted({"d3-0-start": "09:00", "d3-0-end": "12:00",
                                "d3-1-start": "12:00", "d3-1-end": "13:00"})  # fmt: skip

    overlapping.windows()
    touching.windows()

    assert set(overlapping.errors) == {"d3"}
    assert touching.errors == {}


def test_adding_a_window_keeps_the_rows_sent_and_adds_one_empty_row_that_is_focused() -> None:
    week = WeekForm.posted({"d0-0-start": "09:00", "d0-0-end": "12:00",
                            "d0-1-start": "", "d0-1-end": ""})  # fmt: skip

    shown = week.with_blank_rows(extra_on=0)

    assert len(shown.days[0]) == 3 and shown.first_blank(0) == 1
    assert all(len(rows) == 1 and rows[0].empty for rows in shown.days[1:])


def test_a_day_never_shows_more_rows_than_it_may_keep() -> None:
    week = WeekForm.of(tuple(window(0, hour, hour + 1) for hour in range(MAX_WINDOWS_A_DAY)))

    assert len(week.with_blank_rows(extra_on=0).days[0]) == MAX_WINDOWS_A_DAY


def test_copying_a_day_replaces_the_days_ticked_and_keeps_the_others() -> None:
    week = (window(2, 9, 12), window(2, 14, 18), window(5, 7, 8), window(6, 10, 11))

    copied = copied_week(week, 2, {0, 5})

    assert copied == (window(0, 9, 12), window(0, 14, 18), window(2, 9, 12), window(2, 14, 18),
                      window(5, 9, 12), window(5, 14, 18), window(6, 10, 11))  # fmt: skip


def test_time_off_is_one_day_when_the_last_is_left_empty_and_never_ends_before_it_starts() -> None:
    one, no_errors = read_time_off({"first_day": "2030-05-10", "last_day": "", "reason": "Fair"})
    none, errors = read_time_off({"first_day": "2030-05-10", "last_day": "2030-05-09"})
    bad, day_errors = read_time_off({"first_day": "10/05/2030"})

    assert one is not None and no_errors == {}
    assert (one.first_day, one.last_day, one.reason) == (date(2030, 5, 10), date(2030, 5, 10),
                                                         "Fair")  # fmt: skip
    assert none is None and set(errors) == {"last_day"}
    assert bad is None and set(day_errors) == {"first_day"}

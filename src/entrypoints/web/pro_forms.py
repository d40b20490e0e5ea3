"""The professional's forms, read from what a browser posts: the profile, the weekly hours and
a period of time off. Each reader returns the domain values it could build and, for every field
that was wrong, a sentence (``text.sentence``) keyed by that field's name, shown beside it.

Nothing here saves: the pages hand what was read to the same use cases the API calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from booking.availability import overlapping_windows
from booking.model import (
    MAX_HOURLY_RATE_CENTS,
    MAX_TRAVEL_FEE_CENTS,
    SUPPORTED_CURRENCIES,
    AvailabilityWindow,
    Location,
    TimeOff,
    TravelMode,
)
from entrypoints.api.schemas.common import HH_MM, NAME_PATTERN
from entrypoints.places import CATEGORIES, CITIES
from entrypoints.web.text import sentence

Errors = dict[str, str]
DAYS = range(7)
MAX_WINDOWS_A_DAY = 12
MAX_DAYS_OFF = 200
_NAME = re.compile(NAME_PATTERN)
_AMOUNT = re.compile(r"^\s*([0-9]{1,9})(?:[.,]([0-9]{1,2}))?\s*$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@cache
def time_zones() -> list[str]:
    """The zones a profile may name: the IANA names this server's tz database knows."""
    return sorted(zone for zone in available_timezones() if "/" in zone and
                  not zone.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")))  # fmt: skip


# -- The profile --------------------------------------------------------------------------------


def read_profile(form: Mapping[str, str]) -> tuple[dict[str, Any], Errors]:
    """The profile's fields (as ``Professional`` names them) from the profile form."""
    values: dict[str, Any] = {}
    errors: Errors = {}
    name = form.get("name", "").strip()
    if _NAME.match(name) and len(name) <= 200:
        values["name"] = name
    else:
        errors["name"] = sentence("name_required")
    category = form.get("category", "")
    if category in CATEGORIES:
        values["category"] = category
    else:
        errors["category"] = sentence("category_required")
    currency = form.get("currency", "")
    if currency in SUPPORTED_CURRENCIES:
        values["currency"] = currency
    else:
        errors["currency"] = sentence("currency_required")
    _read_amount(form, "rate", "hourly_rate_cents", MAX_HOURLY_RATE_CENTS, values, errors)
    zone = form.get("time_zone", "")
    if zone in time_zones():
        values["time_zone"] = zone
    else:
        errors["time_zone"] = sentence("zone_required")
    _read_place(form, values, errors)
    try:
        values["travel_mode"] = TravelMode(form.get("travel_mode", ""))
    except ValueError:
        errors["travel_mode"] = sentence("travel_mode_required")
    if form.get("travel_fee", "").strip():
        _read_amount(form, "travel_fee", "travel_fee_cents", MAX_TRAVEL_FEE_CENTS, values, errors)
    else:
        values["travel_fee_cents"] = 0
    return values, errors


def cents_text(cents: int) -> str:
    """An amount in cents as the form shows it: 6000 → "60.00"."""
    return f"{cents // 100}.{cents % 100:02d}"


def _read_amount(form: Mapping[str, str], name: str, key: str, most: int,
                 values: dict[str, Any], errors: Errors) -> None:  # fmt: skip
    found = _AMOUNT.match(form.get(name, ""))
    if found is None:
        errors[name] = sentence("rate_format")
        return
    cents = int(found[1]) * 100 + int((found[2] or "0").ljust(2, "0"))
    if cents > most:
        errors[name] = sentence("rate_too_high")
        return
    values[key] = cents


def _read_place(form: Mapping[str, str], values: dict[str, Any], errors: Errors) -> None:
    city = next((c for c in CITIES if c.name == form.get("city")), None)
    if city is None:
        errors["city"] = sentence("city_required")
    lat, lng = form.get("lat", "").strip(), form.get("lng", "").strip()
    if not lat and not lng:
        if city is not None:
            values["location"] = Location(city.lat, city.lng)
        return
    try:
        values["location"] = Location(float(lat), float(lng))
    except ValueError:  # not numbers, or out of range (InvalidInput is a ValueError too)
        errors["lat"] = sentence("coordinates")


# -- The weekly hours ---------------------------------------------------------------------------


@dataclass
class HourRow:
    """One window as the form shows it: the text of its two times (maybe wrong, or empty)."""

    start: str = ""
    end: str = ""

    @property
    def empty(self) -> bool:
        return not self.start.strip() and not self.end.strip()


@dataclass
class WeekForm:
    """The hours editor: rows per weekday (Monday is 0) and the errors by field key
    (``d0-1`` for Monday's second row, ``d0`` for Monday as a whole)."""

    days: list[list[HourRow]] = field(default_factory=lambda: [[] for _ in DAYS])
    errors: Errors = field(default_factory=dict)

    @classmethod
    def of(cls, windows: tuple[AvailabilityWindow, ...]) -> WeekForm:
        week = cls()
        for window in sorted(windows, key=lambda w: (w.day_of_week, w.start)):
            if window.is_active:
                week.days[window.day_of_week].append(HourRow(_clock(window.start),
                                                             _clock(window.end)))  # fmt: skip
        return week

    @classmethod
    def posted(cls, form: Mapping[str, str]) -> WeekForm:
        week = cls()
        for day in DAYS:
            for row in range(MAX_WINDOWS_A_DAY + 1):
                start, end = form.get(f"d{day}-{row}-start"), form.get(f"d{day}-{row}-end")
                if start is None and end is None:
                    continue
                week.days[day].append(HourRow((start or "")[:8], (end or "")[:8]))
        return week

    def with_blank_rows(self, extra_on: int | None = None) -> WeekForm:
        """The rows to show: each day's windows and one empty row to add another; on
        ``extra_on`` (the day whose "add a window" was pressed) the rows as sent and one more."""
        for day in DAYS:
            rows = list(self.days[day])
            if day != extra_on:
                while rows and rows[-1].empty:  # only trailing ones: errors are keyed by place
                    rows.pop()
            if len(rows) < MAX_WINDOWS_A_DAY:
                rows.append(HourRow())
            self.days[day] = rows
        return self

    def first_blank(self, day: int) -> int | None:
        """The place of the day's first empty row (focused after "add a window")."""
        return next((n for n, row in enumerate(self.days[day]) if row.empty), None)

    def windows(self) -> tuple[AvailabilityWindow, ...]:
        """The windows the rows describe; a wrong row leaves its sentence in ``errors``."""
        found: list[AvailabilityWindow] = []
        for day in DAYS:
            mine = [w for row, w in self._day_windows(day) if w is not None]
            if len([row for row in self.days[day] if not row.empty]) > MAX_WINDOWS_A_DAY:
                self.errors[f"d{day}"] = sentence("too_many_windows") % {
                    "count": MAX_WINDOWS_A_DAY
                }
            elif overlapping_windows(mine):
                self.errors[f"d{day}"] = sentence("windows_overlap")
            found += mine
        return tuple(found)

    def _day_windows(self, day: int) -> list[tuple[int, AvailabilityWindow | None]]:
        read = []
        for index, row in enumerate(self.days[day]):
            if row.empty:
                continue
            key = f"d{day}-{index}"
            start, end = _parse_clock(row.start), _parse_clock(row.end)
            if not row.start.strip() or not row.end.strip():
                self.errors[key] = sentence("time_required")
            elif start is None or end is None:
                self.errors[key] = sentence("time_format")
            elif end != time(0) and end <= start:
                self.errors[key] = sentence("end_before_start")
            else:
                window = AvailabilityWindow(day_of_week=day, start=start, end=end)
                read.append((index, window))
                continue
            read.append((index, None))
        return read


def copied_week(windows: tuple[AvailabilityWindow, ...], source: int,
                targets: set[int]) -> tuple[AvailabilityWindow, ...]:  # fmt: skip
    """``windows`` with the days in ``targets`` replaced by copies of day ``source``'s."""
    kept = [w for w in windows if w.day_of_week not in targets]
    copies = [
        AvailabilityWindow(day_of_week=day, start=w.start, end=w.end, is_active=w.is_active)
        for day in sorted(targets)
        for w in windows
        if w.day_of_week == source
    ]
    return tuple(sorted(kept + copies, key=lambda w: (w.day_of_week, w.start)))


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def _parse_clock(raw: str) -> time | None:
    raw = raw.strip()
    if not HH_MM.match(raw):
        return None
    return time(int(raw[:2]), int(raw[3:5]))


# -- Time off -----------------------------------------------------------------------------------


def read_time_off(form: Mapping[str, str]) -> tuple[TimeOff | None, Errors]:
    """One period of time off; the last day defaults to the first (a single day)."""
    errors: Errors = {}
    first = _parse_day(form.get("first_day", ""))
    if first is None:
        errors["first_day"] = sentence("day_format")
    last_text = form.get("last_day", "").strip()
    last = _parse_day(last_text) if last_text else first
    if last is None and last_text:
        errors["last_day"] = sentence("day_format")
    reason = form.get("reason", "").strip()
    if len(reason) > 200 or not re.match(r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$", reason):
        errors["reason"] = sentence("reason_length")
    if first is not None and last is not None and last < first:
        errors["last_day"] = sentence("last_before_first")
    if errors or first is None or last is None:
        return None, errors
    return TimeOff(first_day=first, last_day=last, reason=reason), errors


def _parse_day(raw: str) -> date | None:
    raw = raw.strip()
    if not _DAY.match(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None

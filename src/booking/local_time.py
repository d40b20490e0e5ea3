"""How an appointment's time reads on each party's clock, for the messages they are sent.

Instants are stored in UTC; people read wall-clock times. Each message is written in its
reader's zone, and when the other party lives in another zone, their time follows, each with
the UTC offset in force at that instant (so a summer time and a winter time of one zone read
apart, and an hour that happens twice on the night the clocks go back is told by its offset).
In ASCII (the text itself uses an en dash between times, an em dash before the other party's
time and a minus sign in negative offsets):

    Monday 7 December 2026, 13:00-14:00 (Pacific/Honolulu, UTC-10) -- Tuesday 8 December 2026,
    10:00-11:00 for the professional in Australia/Sydney (UTC+11)

A span whose two ends have different offsets (the clocks change during it) carries the offset
at each end instead: ``Sunday 25 October 2026, 02:30 UTC+2 - 02:30 UTC+1 (Europe/Berlin)``. A
span that ends on another local day names both days. Times are shown to the minute, and to the
second when an instant has seconds. Names of days and months are English whatever the locale.

Whose zone is whose: the professional reads in theirs; the client in theirs, or, if they have
none, in the professional's (where the appointment happens). ``for_client`` and
``for_professional`` say so; ``describe`` (the full text) and ``headline`` (the reader's own
time only, for subjects) write it. Any message about a booking's time uses these, so a new one
(a reschedule's old and new time) reads like the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking.model import Client, Professional
from booking.slot import Slot

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MINUS = "\u2212"  # the minus sign (not a hyphen), as typeset offsets are written


@dataclass(frozen=True, slots=True, kw_only=True)
class Viewpoint:
    """Whose eyes a message is written for: the reader's zone, and the other party's."""

    zone: ZoneInfo
    other_zone: ZoneInfo | None = None
    other_party: str = ""  # "professional" or "client": who the other zone belongs to

    @property
    def shows_other(self) -> bool:
        return self.other_zone is not None and self.other_zone.key != self.zone.key


def for_client(professional: Professional, client: Client) -> Viewpoint:
    """The client reads in their own zone, or the professional's if they have none."""
    return Viewpoint(
        zone=client.zone or professional.zone,
        other_zone=professional.zone,
        other_party="professional",
    )


def for_professional(professional: Professional, client: Client) -> Viewpoint:
    """The professional reads in their own zone, with the client's beside it if it differs."""
    return Viewpoint(zone=professional.zone, other_zone=client.zone, other_party="client")


def describe(slot: Slot, view: Viewpoint) -> str:
    """The slot in the reader's zone, then in the other party's if that is another zone."""
    own = headline(slot, view)
    if not view.shows_other or view.other_zone is None:
        return own
    times, offset = _span(slot, view.other_zone)
    where = f"for the {view.other_party} in {view.other_zone.key}"
    return f"{own} \u2014 {times} {where}" + (f" ({offset})" if offset else "")


def headline(slot: Slot, view: Viewpoint) -> str:
    """The slot in the reader's zone only, with its offset: short enough for a subject."""
    times, offset = _span(slot, view.zone)
    return f"{times} ({view.zone.key}, {offset})" if offset else f"{times} ({view.zone.key})"


def utc_offset(offset: timedelta) -> str:
    """``UTC+11``, ``UTC+5:30``, ``UTC+0``, and with a minus sign ``UTC-10``; seconds only where a
    zone has them (some did before 1972)."""
    seconds = int(offset.total_seconds())
    sign = "+" if seconds >= 0 else _MINUS
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"UTC{sign}{hours}"
    if minutes or seconds:
        text += f":{minutes:02d}"
    if seconds:
        text += f":{seconds:02d}"
    return text


def offset_at(instant: datetime, zone: ZoneInfo) -> timedelta:
    """The UTC offset in force in ``zone`` at ``instant``."""
    return instant.astimezone(zone).utcoffset() or timedelta(0)


def day_name(local: datetime) -> str:
    """``Monday 7 December 2026``."""
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"


def clock_time(local: datetime) -> str:
    """``13:00``, or ``13:00:30`` when there are seconds."""
    text = f"{local.hour:02d}:{local.minute:02d}"
    return f"{text}:{local.second:02d}" if local.second else text


def _span(slot: Slot, zone: ZoneInfo) -> tuple[str, str]:
    """The slot's local times, and their one offset ("" when the two ends differ in it, and
    each end carries its own)."""
    start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    first = f"{day_name(start)}, {clock_time(start)}"
    same_day = start.date() == end.date()
    last = clock_time(end) if same_day else f"{day_name(end)}, {clock_time(end)}"
    start_offset, end_offset = offset_at(slot.start, zone), offset_at(slot.end, zone)
    if start_offset == end_offset:
        dash = "\u2013" if same_day else " \u2013 "
        return f"{first}{dash}{last}", utc_offset(start_offset)
    return f"{first} {utc_offset(start_offset)} \u2013 {last} {utc_offset(end_offset)}", ""

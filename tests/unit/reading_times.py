"""Reading an appointment's time back from the text the emails give, as a person would: the
local date and time, minus the UTC offset written beside it, is the instant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]  # fmt: skip
_DAY = r"[A-Z][a-z]+ \d{1,2} [A-Z][a-z]+ \d{4}"
_TIME = r"\d\d:\d\d(?::\d\d)?"
_OFFSET = r"UTC[+\u2212]\d{1,2}(?::\d\d){0,2}"
_SPAN = (
    rf"(?P<d1>{_DAY}), (?P<t1>{_TIME})(?: (?P<o1>{_OFFSET}))?"
    rf"(?:\u2013| \u2013 )(?:(?P<d2>{_DAY}), )?(?P<t2>{_TIME})(?: (?P<o2>{_OFFSET}))?"
)
_OWN = re.compile(rf"{_SPAN} \((?P<zone>[^,()]+)(?:, (?P<offset>{_OFFSET}))?\)")
_OTHER = re.compile(
    rf"{_SPAN} for the (?P<party>client|professional) in (?P<zone>\S+)"
    rf"(?: \((?P<offset>{_OFFSET})\))?"
)


@dataclass(frozen=True)
class Read:
    start: datetime
    end: datetime
    zone: str
    start_offset: timedelta
    end_offset: timedelta
    party: str = ""


def parse_offset(text: str) -> timedelta:
    sign = -1 if text[3] == "\u2212" else 1
    parts = [int(p) for p in text[4:].split(":")] + [0, 0]
    return sign * timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])


def parse_local(day: str, clock: str) -> datetime:
    weekday, number, month, year = day.split()
    hms = [int(p) for p in clock.split(":")] + [0]
    local = datetime(int(year), _MONTHS.index(month) + 1, int(number), hms[0], hms[1], hms[2])
    assert _DAYS[local.weekday()] == weekday, f"{day} is not a {weekday}"
    return local


def read(match: re.Match[str]) -> Read:
    """The instants a reader of this text would arrive at: local time minus its offset."""
    parts = match.groupdict()
    first = parts["o1"] or parts["offset"]
    last = parts["o2"] or parts["offset"]
    assert first and last, match.group(0)
    start_offset, end_offset = parse_offset(first), parse_offset(last)
    start_local = parse_local(parts["d1"], parts["t1"])
    end_local = parse_local(parts["d2"] or parts["d1"], parts["t2"])
    return Read(
        start=(start_local - start_offset).replace(tzinfo=UTC),
        end=(end_local - end_offset).replace(tzinfo=UTC),
        zone=parts["zone"],
        start_offset=start_offset,
        end_offset=end_offset,
        party=parts.get("party") or "",
    )


def read_all(text: str) -> tuple[Read, Read | None]:
    own, _, other = text.partition(" \u2014 ")
    own_match = _OWN.fullmatch(own)
    assert own_match, own
    if not other:
        return read(own_match), None
    other_match = _OTHER.fullmatch(other)
    assert other_match, other
    return read(own_match), read(other_match)


def read_in(text: str) -> tuple[Read, Read | None]:
    """The first appointment time in ``text`` (an email's body), and the other party's after
    it if there is one."""
    own = _OWN.search(text)
    assert own, text
    other = _OTHER.match(text, own.end() + len(" \u2014 "))
    if not text.startswith(" \u2014 ", own.end()) or other is None:
        return read(own), None
    return read(own), read(other)

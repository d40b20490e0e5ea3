"""Fields shared by every body: strict integers, money, IANA time zones, aware instants, days.

Validation happens at the edge: unknown fields are rejected (marshmallow's default, ``RAISE``),
instants must carry an offset (``AwareDateTime``: a naive time is a 422), instants and days
must fall in the years 1970 to 2200, time zones must be IANA names, money is integer cents.
Bodies load into plain values or domain value objects.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, ClassVar
from zoneinfo import available_timezones

from marshmallow import ValidationError, fields, validate

_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_CENTS = 100_000_000  # a million in the currency's main unit: far beyond any hourly rate
DURATION_MINUTES = validate.Range(min=5, max=24 * 60)
PAGE = validate.Range(min=1, max=100)
# Far wider than any booking can need, and far from where Python's datetimes end (years 1 and
# 9999), where a day or a UTC offset more overflows.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2200, 12, 31)
_YEARS = f"the years {FIRST_DAY.year} to {LAST_DAY.year}"
_EARLIEST = datetime(FIRST_DAY.year, 1, 1, tzinfo=UTC)
_LATEST = datetime(LAST_DAY.year + 1, 1, 1, tzinfo=UTC)  # the end of the last year


class StrictInteger(fields.Integer):
    """An integer in JSON: no strings, floats or booleans."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Text(fields.String):
    """A string with no control characters but tab and line breaks, and no lone surrogates.

    PostgreSQL cannot store NUL at all, and half a UTF-16 pair (JSON's "\\ud800" escape can
    carry one in) cannot be encoded to be stored anywhere: both used to fail as 500s.
    """

    default_error_messages: ClassVar[dict[str, str]] = {
        "unprintable": "must not contain control characters or lone surrogates"
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if _UNPRINTABLE.search(text):
            raise self.make_error("unprintable")
        return text


def cents(**kwargs: Any) -> StrictInteger:
    return StrictInteger(validate=validate.Range(min=0, max=MAX_CENTS), **kwargs)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _iana_zone(name: str) -> None:
    if name not in _zones():
        raise ValidationError("not an IANA time zone name (like Europe/Berlin)")


def time_zone(**kwargs: Any) -> fields.String:
    return fields.String(validate=_iana_zone, metadata={"example": "Europe/Berlin"}, **kwargs)


def _in_supported_years(value: datetime) -> None:
    # Compared as given: comparing aware datetimes never overflows, converting them can.
    if not _EARLIEST <= value <= _LATEST:
        raise ValidationError(f"must be an instant in {_YEARS} (UTC)")


def instant(**kwargs: Any) -> fields.AwareDateTime:
    """An ISO 8601 instant with its UTC offset, in the supported years; naive values are refused."""
    metadata = {"description": f"ISO 8601 with an offset, in {_YEARS}"}
    metadata.update(kwargs.pop("metadata", {}))
    return fields.AwareDateTime(
        format="iso", validate=_in_supported_years, metadata=metadata, **kwargs
    )


def day(**kwargs: Any) -> fields.Date:
    """An ISO 8601 calendar day in the supported years."""
    return fields.Date(
        validate=validate.Range(min=FIRST_DAY, max=LAST_DAY, error=f"must be a day in {_YEARS}"),
        metadata={"description": f"in {_YEARS}"},
        **kwargs,
    )

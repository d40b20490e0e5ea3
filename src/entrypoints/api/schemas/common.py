"""Fields shared by every body: strict integers, money, IANA time zones, aware instants.

Validation happens at the edge: unknown fields are rejected (marshmallow's default, ``RAISE``),
instants must carry an offset (``AwareDateTime``: a naive time is a 422), time zones must be
IANA names, money is integer cents. Bodies load into plain values or domain value objects.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from marshmallow import ValidationError, fields, validate

MAX_CENTS = 100_000_000  # a million in the currency's main unit: far beyond any hourly rate
DURATION_MINUTES = validate.Range(min=5, max=24 * 60)
PAGE = validate.Range(min=1, max=100)


class StrictInteger(fields.Integer):
    """An integer in JSON: no strings, floats or booleans."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


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


def instant(**kwargs: Any) -> fields.AwareDateTime:
    """An ISO 8601 instant with its UTC offset; naive values are refused."""
    return fields.AwareDateTime(format="iso", **kwargs)

"""Fields shared by every body: strict integers, money, IANA time zones, aware instants, days.

Validation happens at the edge: unknown fields are rejected (marshmallow's default, ``RAISE``),
instants must carry an offset (``AwareDateTime``: a naive time is a 422), instants and days
must fall in the years 1970 to 2200, time zones must be IANA names, money is integer cents,
single-line fields (``Line``: names, phone numbers, anything that can reach a mail header)
refuse line breaks and every other control character. Bodies load into plain values or domain
value objects.

Each rule a field checks is also stated in the OpenAPI document (a ``pattern``, ``minimum`` or
``maxLength``), so a client generated from it sends what the API accepts; rules between fields
are said in words in the field's and the operation's description.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, ClassVar
from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# The same rules as patterns for the OpenAPI document, in the syntax Python and ECMA-262 share.
# Lone surrogates are left out of them: a JSON Schema pattern cannot name them portably, and
# no generator sends them; the fields refuse them all the same.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"  # C0, DEL, C1 (NEL among them), the Unicode breaks
LINE_PATTERN = rf"^[^{_CONTROL}]*$"
NAME_PATTERN = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"  # one line, not only spaces
_NOT_ONE_LINE = re.compile(f"[{_CONTROL}]")
HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")
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
    pattern = TEXT_PATTERN

    def __init__(
        self, *, pattern: str | None = None, error: str | None = None, **kwargs: Any
    ) -> None:
        # The pattern comes first: the OpenAPI document states the first Regexp of a field.
        validators = kwargs.pop("validate", None) or []
        if callable(validators):
            validators = [validators]
        own = validate.Regexp(pattern or self.pattern, error=error or "has the wrong format")
        super().__init__(validate=[own, *validators], **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if _UNPRINTABLE.search(text):
            raise self.make_error("unprintable")
        return text


class Line(Text):
    """One line of text: no line breaks, no other control characters, no lone surrogates.

    For everything that is shown on one line or can reach a mail header (names, phone numbers,
    categories, reasons): a line break there once made an email impossible to build. A
    ``pattern`` given must itself exclude control characters; the check here runs anyway.
    """

    default_error_messages: ClassVar[dict[str, str]] = {
        "unprintable": "must be one line: no line breaks or other control characters",
    }
    pattern = LINE_PATTERN

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _NOT_ONE_LINE.search(text):
            raise self.make_error("unprintable")
        return text


def name_line(**kwargs: Any) -> Line:
    """A person's or a business's name: one line of 1-200 characters, not only spaces."""
    return Line(
        pattern=NAME_PATTERN, error="must not be blank",
        validate=validate.Length(min=1, max=200), **kwargs,
    )


class EmailAddress(Line, fields.Email):
    """An email address on one line (documented with ``format: email``), at most 320 long."""

    # The domain's rule (booking.model), on one line.
    pattern = rf"^[^\s@{_CONTROL}]{{1,64}}@[^\s@{_CONTROL}]+\.[^\s@{_CONTROL}]{{2,}}$"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            error="not an email address", validate=validate.Length(max=320), **kwargs
        )


class ClockTime(fields.Time):
    """A local wall-clock time written ``HH:MM`` (or ``HH:MM:SS``), 00:00 to 23:59."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "not a time written HH:MM (00:00 to 23:59)"
    }

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": HH_MM.pattern, "minLength": 5, "maxLength": 8, "example": "09:00"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(format="iso", metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not HH_MM.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Changes(Schema):
    """The body of a PATCH: only the fields given change, and at least one must be given.

    The OpenAPI document says so with ``minProperties: 1`` (``app.py`` adds it; apispec has no
    word for it).
    """

    @validates_schema(pass_original=True)
    def changes_something(self, _: dict[str, Any], original: Any, **__: Any) -> None:
        if isinstance(original, dict) and not original:
            raise ValidationError("give at least one field to change", "_schema")


def cents(**kwargs: Any) -> StrictInteger:
    return StrictInteger(validate=validate.Range(min=0, max=MAX_CENTS), **kwargs)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _iana_zone(name: str) -> None:
    if name not in _zones():
        raise ValidationError("not an IANA time zone name (like Europe/Berlin)")


def time_zone(**kwargs: Any) -> fields.String:
    """An IANA time zone name; the document lists the names this server's tz database knows."""
    metadata: dict[str, Any] = {"example": "Europe/Berlin", "enum": sorted(_zones())}
    metadata.update(kwargs.pop("metadata", {}))
    return fields.String(validate=_iana_zone, metadata=metadata, **kwargs)


def _in_supported_years(value: datetime) -> None:
    # Compared as given: comparing aware datetimes never overflows, converting them can.
    if not _EARLIEST <= value <= _LATEST:
        raise ValidationError(f"must be an instant in {_YEARS} (UTC)")


def instant_years() -> str:
    return f"ISO 8601 with an offset, in {_YEARS}"


def instant(**kwargs: Any) -> fields.AwareDateTime:
    """An ISO 8601 instant with its UTC offset, in the supported years; naive values are refused."""
    metadata = {"description": instant_years()}
    metadata.update(kwargs.pop("metadata", {}))
    return fields.AwareDateTime(
        format="iso", validate=_in_supported_years, metadata=metadata, **kwargs
    )


def day(**kwargs: Any) -> fields.Date:
    """An ISO 8601 calendar day in the supported years."""
    metadata = {"description": f"in {_YEARS}"}
    if "metadata" in kwargs:
        metadata["description"] = f"{kwargs.pop('metadata')['description']}; in {_YEARS}"
    return fields.Date(
        validate=validate.Range(min=FIRST_DAY, max=LAST_DAY, error=f"must be a day in {_YEARS}"),
        metadata=metadata,
        **kwargs,
    )

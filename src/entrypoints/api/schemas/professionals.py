"""Bodies of the professional, availability, time-off, slot and search endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from booking.catalogue import MAX_FREE_RESULTS, MAX_RADIUS_KM
from booking.model import (
    MAX_HOURLY_RATE_CENTS,
    SUPPORTED_CURRENCIES,
    AvailabilityWindow,
    BookingPolicy,
    Location,
    Professional,
    TimeOff,
    TravelMode,
)
from booking.slot import Slot
from entrypoints.api.schemas.common import (
    DURATION_MINUTES,
    PAGE,
    Changes,
    ClockTime,
    EmailAddress,
    Line,
    StrictInteger,
    cents,
    day,
    instant,
    instant_years,
    name_line,
    time_zone,
)

_SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
_MULTIPLE = "a multiple of granularity_minutes"
_LOCAL = (
    " of the slot on the clock of the time_zone asked for: ISO 8601 local time with that"
    " zone's UTC offset at that instant (present only when time_zone was given)"
)


class LocationSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lng = fields.Float(required=True, validate=validate.Range(min=-180, max=180))

    @post_load
    def to_location(self, data: dict[str, float], **_: Any) -> Location:
        return Location(data["lat"], data["lng"])


_POLICY_MINUTES = (
    "granularity", "minimum_notice", "maximum_advance", "minimum_duration", "maximum_duration",
    "buffer", "travel_time", "free_cancellation",
)


def _minutes(low: int, high: int, description: str | None = None) -> StrictInteger:
    metadata = {"description": description} if description else {}
    return StrictInteger(validate=validate.Range(min=low, max=high), metadata=metadata)


# In the descriptions of the operations that take a policy (apispec drops
# additionalProperties: false from a schema that has a Meta.description).
POLICY_RULES = """A `policy` replaces the whole policy; its omitted fields take their defaults.
Its fields are checked together, the defaults standing in for omitted ones: the minimum and
maximum duration are multiples of the granularity, the minimum is at least the granularity and
at most the maximum, and the maximum advance is above the minimum notice."""


class PolicySchema(Schema):
    """How a professional can be booked; durations in minutes. Omitted fields take defaults."""

    granularity_minutes = _minutes(5, 24 * 60, "slots start on this grid; default 30")
    minimum_notice_minutes = _minutes(0, 1_051_200, "below maximum_advance_minutes; default 120")
    maximum_advance_minutes = _minutes(
        1, 1_051_200, "above minimum_notice_minutes; default 129600 (90 days)"
    )
    minimum_duration_minutes = _minutes(
        5, 24 * 60, f"{_MULTIPLE}, at least it and at most maximum_duration_minutes; default 60"
    )
    maximum_duration_minutes = _minutes(5, 24 * 60, f"{_MULTIPLE}; default 480")
    buffer_minutes = StrictInteger(validate=validate.Range(min=0, max=24 * 60))
    travel_time_minutes = StrictInteger(validate=validate.Range(min=0, max=24 * 60))
    free_cancellation_minutes = StrictInteger(validate=validate.Range(min=0, max=1_051_200))
    late_cancellation_refund_percent = StrictInteger(validate=validate.Range(min=0, max=100))

    @post_load
    def to_policy(self, data: dict[str, int], **_: Any) -> BookingPolicy:
        values: dict[str, Any] = {
            name: timedelta(minutes=data[f"{name}_minutes"])
            for name in _POLICY_MINUTES
            if f"{name}_minutes" in data
        }
        if "late_cancellation_refund_percent" in data:
            values["late_cancellation_refund_percent"] = data["late_cancellation_refund_percent"]
        return BookingPolicy(**values)  # the domain checks how the values fit together


def policy_body(policy: BookingPolicy) -> dict[str, int]:
    minute = timedelta(minutes=1)
    body = {f"{name}_minutes": getattr(policy, name) // minute for name in _POLICY_MINUTES}
    body["late_cancellation_refund_percent"] = policy.late_cancellation_refund_percent
    return body


class WindowSchema(Schema):
    """A weekly window in the professional's local time; Monday is 0, "00:00" as end is midnight."""

    day_of_week = StrictInteger(required=True, validate=validate.Range(min=0, max=6))
    start = ClockTime(required=True)
    end = ClockTime(
        required=True,
        metadata={"example": "17:00", "description": 'after start, or "00:00" for midnight'},
    )
    is_active = fields.Boolean(load_default=True)

    @post_load
    def to_window(self, data: dict[str, Any], **_: Any) -> AvailabilityWindow:
        return AvailabilityWindow(**data)


_NO_OVERLAP = "windows of one day may touch but not overlap (422 overlapping_windows)"


class AvailabilitySchema(Schema):
    windows = fields.List(
        fields.Nested(WindowSchema),
        required=True,
        validate=validate.Length(max=100),
        metadata={"description": _NO_OVERLAP},
    )
    time_zone = fields.String(dump_only=True)


class TimeOffSchema(Schema):
    first_day = day(required=True)
    last_day = day(required=True, metadata={"description": "on or after first_day"})
    reason = Line(load_default="", validate=validate.Length(max=200))

    @post_load
    def to_time_off(self, data: dict[str, Any], **_: Any) -> TimeOff:
        return TimeOff(**data)


class TimeOffListSchema(Schema):
    days_off = fields.List(
        fields.Nested(TimeOffSchema), required=True, validate=validate.Length(max=200)
    )


def hourly_rate(**kwargs: Any) -> StrictInteger:
    """Capped so that 24 hours at the rate, plus the travel fee, fit a stored price."""
    return StrictInteger(validate=validate.Range(min=0, max=MAX_HOURLY_RATE_CENTS), **kwargs)


class _ProfileFields(Schema):
    name = name_line()
    email = EmailAddress()
    category = Line(
        pattern=_SLUG, error="a lowercase slug", validate=validate.Length(max=63),
        metadata={"example": "plumbing"},
    )
    hourly_rate_cents = hourly_rate()
    currency = fields.String(
        validate=validate.OneOf(
            sorted(SUPPORTED_CURRENCIES),
            error="not a supported currency; use one of {choices} (see docs/pricing.md)",
        ),
        metadata={"description": "ISO 4217, lower case, with two decimal places"},
    )
    time_zone = time_zone()
    location = fields.Nested(LocationSchema)
    travel_mode = fields.Enum(TravelMode, by_value=True)
    travel_fee_cents = cents()
    policy = fields.Nested(PolicySchema)


class NewProfessionalSchema(_ProfileFields):
    name = name_line(required=True)
    email = EmailAddress(required=True)
    category = Line(
        required=True, pattern=_SLUG, error="a lowercase slug", validate=validate.Length(max=63)
    )
    hourly_rate_cents = hourly_rate(required=True)
    time_zone = time_zone(required=True)
    location = fields.Nested(LocationSchema, required=True)
    availability = fields.List(
        fields.Nested(WindowSchema),
        validate=validate.Length(max=100),
        metadata={"description": _NO_OVERLAP},
    )

    @post_load
    def to_draft(self, data: dict[str, Any], **_: Any) -> ProfileDraft:
        if "availability" in data:
            data["availability"] = tuple(data["availability"])
        return ProfileDraft(data)


@dataclass(frozen=True, slots=True)
class ProfileDraft:
    """A new profile's fields, checked by the domain when the id is known."""

    values: dict[str, Any]

    def build(self, professional_id: UUID) -> Professional:
        return Professional(id=professional_id, **self.values)


class ProfessionalChangesSchema(_ProfileFields, Changes):
    """Only the fields given change, at least one; ``policy``, when given, replaces the whole
    policy."""


class ProfessionalSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    category = fields.String(required=True)
    hourly_rate_cents = fields.Integer(required=True)
    currency = fields.String(required=True)
    time_zone = fields.String(required=True)
    location = fields.Dict(required=True, keys=fields.String(), values=fields.Float())
    travel_mode = fields.String(required=True)
    travel_fee_cents = fields.Integer(required=True)
    policy = fields.Dict(required=True, keys=fields.String(), values=fields.Integer())
    version = fields.Integer(required=True)
    pending_email = fields.String(
        metadata={"description": "a new address awaiting its verification link"}
    )
    distance_km = fields.Float(allow_none=True)


class CalendarFeedSchema(Schema):
    calendar_feed_url = fields.Url(
        required=True,
        metadata={
            "description": "the private ICS feed to subscribe to in a calendar app; shown"
            " only here, and the URL made before stops working"
        },
    )


class ProfessionalPageSchema(Schema):
    items = fields.List(fields.Nested(ProfessionalSchema), required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


_POINT = "give lat, lng and radius_km together, or none of them"
_WINDOW = "give available_from and available_to together, or neither; at most 62 days apart"


class SearchArgsSchema(Schema):
    category = Line(validate=validate.Length(min=1, max=63))
    lat = fields.Float(
        validate=validate.Range(min=-90, max=90), metadata={"description": _POINT}
    )
    lng = fields.Float(
        validate=validate.Range(min=-180, max=180), metadata={"description": _POINT}
    )
    radius_km = fields.Float(
        validate=validate.Range(min=0, max=MAX_RADIUS_KM, min_inclusive=False),
        metadata={"description": f"{_POINT}; at most {MAX_RADIUS_KM:g} km"},
    )
    available_from = instant(metadata={"description": f"{_WINDOW}; {instant_years()}"})
    available_to = instant(
        metadata={"description": f"{_WINDOW}, after available_from; {instant_years()}"}
    )
    duration_minutes = fields.Integer(
        load_default=60,
        validate=DURATION_MINUTES,
        metadata={"description": "with a window: the length of the free slot to look for"},
    )
    limit = fields.Integer(load_default=20, validate=PAGE)
    offset = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=10_000),
        metadata={
            "description": f"with available_from: offset + limit is at most {MAX_FREE_RESULTS}"
        },
    )

    @validates_schema
    def together(self, data: dict[str, Any], **_: Any) -> None:
        point = [name for name in ("lat", "lng", "radius_km") if name in data]
        if point and len(point) != 3:
            raise ValidationError("give lat, lng and radius_km together", "radius_km")
        window = [name for name in ("available_from", "available_to") if name in data]
        if window and len(window) != 2:
            raise ValidationError("give available_from and available_to together", "available_to")
        if len(window) == 2 and data["available_to"] <= data["available_from"]:
            raise ValidationError("must be after available_from", "available_to")
        page_end = data.get("offset", 0) + data.get("limit", 20)
        if window and page_end > MAX_FREE_RESULTS:
            raise ValidationError(
                f"with available_from, offset + limit is at most {MAX_FREE_RESULTS}", "offset"
            )

    @post_load
    def to_search(self, data: dict[str, Any], **_: Any) -> Search:
        near = Location(data["lat"], data["lng"]) if "lat" in data else None
        window = None
        if "available_from" in data:
            window = Slot(data["available_from"], data["available_to"])
        return Search(
            category=data.get("category"),
            near=near,
            radius_km=data.get("radius_km"),
            window=window,
            duration=timedelta(minutes=data["duration_minutes"]),
            limit=data["limit"],
            offset=data["offset"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Search:
    category: str | None
    near: Location | None
    radius_km: float | None
    window: Slot | None
    duration: timedelta
    limit: int
    offset: int


class SlotArgsSchema(Schema):
    start = instant(required=True, data_key="from")
    end = instant(
        required=True,
        data_key="to",
        metadata={"description": f"after from, at most 62 days later; {instant_years()}"},
    )
    duration_minutes = fields.Integer(
        required=True,
        validate=DURATION_MINUTES,
        metadata={
            "description": "a multiple of the professional's granularity, within their minimum"
            " and maximum duration (see policy in GET /professionals/{professional_id})"
        },
    )

    time_zone = time_zone(
        metadata={
            "description": "an IANA time zone: each slot also gets local_start and local_end,"
            " its times on that zone's clock (the UTC instants stay as they are)"
        }
    )

    @validates_schema
    def in_order(self, data: dict[str, Any], **_: Any) -> None:
        if data["end"] <= data["start"]:
            raise ValidationError("must be after from", "to")

    @post_load
    def to_query(self, data: dict[str, Any], **_: Any) -> SlotQuery:
        zone = data.get("time_zone")
        return SlotQuery(
            span=Slot(data["start"], data["end"]),
            duration=timedelta(minutes=data["duration_minutes"]),
            zone=None if zone is None else ZoneInfo(zone),
        )


@dataclass(frozen=True, slots=True)
class SlotQuery:
    span: Slot
    duration: timedelta
    zone: ZoneInfo | None = None  # label the slots with local times in this zone


class SlotSchema(Schema):
    start_time = fields.AwareDateTime(required=True, metadata={"description": "in UTC"})
    end_time = fields.AwareDateTime(required=True, metadata={"description": "in UTC"})
    local_start = fields.AwareDateTime(metadata={"description": "the start" + _LOCAL})
    local_end = fields.AwareDateTime(metadata={"description": "the end" + _LOCAL})


class FreeSlotsSchema(Schema):
    professional_id = fields.UUID(required=True)
    duration_minutes = fields.Integer(required=True)
    price_cents = fields.Integer(required=True, metadata={"description": "of each slot"})
    currency = fields.String(required=True)
    time_zone = fields.String(
        metadata={"description": "the time_zone asked for (present only when it was given)"}
    )
    slots = fields.List(
        fields.Nested(SlotSchema),
        required=True,
        metadata={"description": "in time order, each once, at most 1,000"},
    )
    next = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the URL of the slots after these (same query), or null"},
    )

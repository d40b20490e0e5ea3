"""Bodies of the professional, availability, time-off, slot and search endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

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
    StrictInteger,
    Text,
    cents,
    day,
    instant,
    time_zone,
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


class PolicySchema(Schema):
    """How a professional can be booked; durations in minutes. Omitted fields take defaults."""

    granularity_minutes = StrictInteger(validate=validate.Range(min=5, max=24 * 60))
    minimum_notice_minutes = StrictInteger(validate=validate.Range(min=0, max=1_051_200))
    maximum_advance_minutes = StrictInteger(validate=validate.Range(min=1, max=1_051_200))
    minimum_duration_minutes = StrictInteger(validate=DURATION_MINUTES)
    maximum_duration_minutes = StrictInteger(validate=DURATION_MINUTES)
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
    start = fields.Time(required=True, format="iso", metadata={"example": "09:00:00"})
    end = fields.Time(required=True, format="iso", metadata={"example": "17:00:00"})
    is_active = fields.Boolean(load_default=True)

    @post_load
    def to_window(self, data: dict[str, Any], **_: Any) -> AvailabilityWindow:
        return AvailabilityWindow(**data)


class AvailabilitySchema(Schema):
    windows = fields.List(
        fields.Nested(WindowSchema), required=True, validate=validate.Length(max=100)
    )
    time_zone = fields.String(dump_only=True)


class TimeOffSchema(Schema):
    first_day = day(required=True)
    last_day = day(required=True)
    reason = Text(load_default="", validate=validate.Length(max=200))

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
    name = Text(validate=validate.Length(min=1, max=200))
    email = fields.Email(validate=validate.Length(max=320))
    category = fields.String(
        validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,62}$", error="a lowercase slug"),
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
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=320))
    category = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,62}$", error="a lowercase slug"),
    )
    hourly_rate_cents = hourly_rate(required=True)
    time_zone = time_zone(required=True)
    location = fields.Nested(LocationSchema, required=True)
    availability = fields.List(fields.Nested(WindowSchema), validate=validate.Length(max=100))

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


class ProfessionalChangesSchema(_ProfileFields):
    """Only the fields given change; ``policy``, when given, replaces the whole policy."""


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


class SearchArgsSchema(Schema):
    category = Text(validate=validate.Length(min=1, max=63))
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lng = fields.Float(validate=validate.Range(min=-180, max=180))
    radius_km = fields.Float(
        validate=validate.Range(min=0, max=MAX_RADIUS_KM, min_inclusive=False),
        metadata={"description": f"at most {MAX_RADIUS_KM:g} km"},
    )
    available_from = instant()
    available_to = instant()
    duration_minutes = fields.Integer(load_default=60, validate=DURATION_MINUTES)
    limit = fields.Integer(load_default=20, validate=PAGE)
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000))

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
    end = instant(required=True, data_key="to")
    duration_minutes = fields.Integer(required=True, validate=DURATION_MINUTES)

    @validates_schema
    def in_order(self, data: dict[str, Any], **_: Any) -> None:
        if data["end"] <= data["start"]:
            raise ValidationError("must be after from", "to")

    @post_load
    def to_query(self, data: dict[str, Any], **_: Any) -> SlotQuery:
        return SlotQuery(
            span=Slot(data["start"], data["end"]),
            duration=timedelta(minutes=data["duration_minutes"]),
        )


@dataclass(frozen=True, slots=True)
class SlotQuery:
    span: Slot
    duration: timedelta


class SlotSchema(Schema):
    start_time = fields.AwareDateTime(required=True)
    end_time = fields.AwareDateTime(required=True)


class FreeSlotsSchema(Schema):
    professional_id = fields.UUID(required=True)
    duration_minutes = fields.Integer(required=True)
    price_cents = fields.Integer(required=True, metadata={"description": "of each slot"})
    currency = fields.String(required=True)
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

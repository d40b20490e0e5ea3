"""Bodies of the booking endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from marshmallow import Schema, fields, post_load, validate

from booking.model import BookingStatus
from entrypoints.api.schemas.common import (
    DURATION_MINUTES,
    PAGE,
    StrictInteger,
    instant,
    instant_years,
)

STATUSES = [status.value for status in BookingStatus]


class NewBookingSchema(Schema):
    professional_id = fields.UUID(required=True)
    start_time = instant(
        required=True,
        metadata={
            "example": "2026-06-01T10:00:00+02:00",
            "description": f"a free slot's start (GET /professionals/{{professional_id}}/slots);"
            f" {instant_years()}",
        },
    )
    duration_minutes = StrictInteger(
        required=True,
        validate=DURATION_MINUTES,
        metadata={
            "description": "a multiple of the professional's granularity, within their minimum"
            " and maximum duration (their policy)"
        },
    )

    @post_load
    def to_request(self, data: dict[str, Any], **_: Any) -> BookingRequest:
        return BookingRequest(
            professional_id=data["professional_id"],
            start=data["start_time"],
            duration=timedelta(minutes=data["duration_minutes"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingRequest:
    professional_id: UUID
    start: datetime
    duration: timedelta


class RescheduleSchema(Schema):
    start_time = instant(
        required=True,
        metadata={
            "example": "2026-06-02T14:00:00+02:00",
            "description": "the new start: a free slot's start for the booking's own length"
            f" (GET /professionals/{{professional_id}}/slots); {instant_years()}",
        },
    )
    duration_minutes = StrictInteger(
        validate=DURATION_MINUTES,
        metadata={
            "description": "optional; if given it must be the booking's own length, since the"
            " price and the payment carry over: another answers 422 duration_change_refused"
            " (a price change is a new booking)"
        },
    )

    @post_load
    def to_request(self, data: dict[str, Any], **_: Any) -> RescheduleRequest:
        minutes = data.get("duration_minutes")
        return RescheduleRequest(
            start=data["start_time"],
            duration=timedelta(minutes=minutes) if minutes is not None else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RescheduleRequest:
    start: datetime
    duration: timedelta | None


class PaymentSchema(Schema):
    payment_intent_id = fields.String(allow_none=True, required=True)
    client_secret = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "for the payment form; only in the answer to POST"},
    )


class BookingSchema(Schema):
    id = fields.UUID(required=True)
    professional_id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    start_time = fields.AwareDateTime(required=True)
    end_time = fields.AwareDateTime(required=True)
    total_price_cents = fields.Integer(required=True)
    currency = fields.String(required=True)
    payment = fields.Nested(PaymentSchema, required=True)
    cancellation_reason = fields.String(allow_none=True)
    refund_due_cents = fields.Integer()
    refunded_cents = fields.Integer()
    reschedule_count = fields.Integer(
        metadata={"description": "times the booking was moved to another start"}
    )
    created_at = fields.AwareDateTime()


class BookingListArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    starts_from = instant(
        data_key="from", metadata={"description": f"at or after this instant; {instant_years()}"}
    )
    starts_before = instant(
        data_key="to", metadata={"description": f"before this instant; {instant_years()}"}
    )
    limit = fields.Integer(load_default=50, validate=PAGE)
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100_000))

    @post_load
    def to_filter(self, data: dict[str, Any], **_: Any) -> BookingFilter:
        status = data.get("status")
        return BookingFilter(
            status=BookingStatus(status) if status else None,
            starts_from=data.get("starts_from"),
            starts_before=data.get("starts_before"),
            limit=data["limit"],
            offset=data["offset"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingFilter:
    status: BookingStatus | None
    starts_from: datetime | None
    starts_before: datetime | None
    limit: int
    offset: int


class BookingPageSchema(Schema):
    items = fields.List(fields.Nested(BookingSchema), required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)

"""Translation between table rows and domain objects, both ways, with no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

from booking.errors import InvalidInput
from booking.events import Event
from booking.incidents import IncidentKind, PaymentIncident
from booking.model import (
    AvailabilityWindow,
    Booking,
    BookingPolicy,
    BookingStatus,
    CancellationReason,
    CancellationTerms,
    Client,
    Location,
    Professional,
    TimeOff,
    TravelMode,
)
from booking.slot import Slot

Row = Mapping[Any, Any]  # a SQLAlchemy RowMapping, or a dict from adapters.sql.direct
Values = dict[str, object]

_MINUTE = timedelta(minutes=1)
POLICY_DURATIONS = (
    "granularity", "minimum_notice", "maximum_advance", "minimum_duration", "maximum_duration",
    "buffer", "travel_time", "free_cancellation",
)
_POLICY_COLUMNS = tuple(f"{name}_minutes" for name in POLICY_DURATIONS)


def minutes(delta: timedelta, name: str) -> int:
    if delta % _MINUTE:
        raise InvalidInput(f"{name} must be a whole number of minutes to be stored")
    return delta // _MINUTE


# -- professionals ---------------------------------------------------------------------------


def professional_values(pro: Professional) -> Values:
    """The ``professionals`` row (without audit timestamps)."""
    values: Values = {
        "id": pro.id,
        "name": pro.name,
        "email": pro.email,
        "category": pro.category,
        "hourly_rate_cents": pro.hourly_rate_cents,
        "currency": pro.currency,
        "travel_mode": pro.travel_mode.value,
        "travel_fee_cents": pro.travel_fee_cents,
        "time_zone": pro.time_zone,
        "location_lat": pro.location.lat,
        "location_lng": pro.location.lng,
        "late_cancellation_refund_percent": pro.policy.late_cancellation_refund_percent,
        "version": pro.version,
    }
    for name in POLICY_DURATIONS:
        values[f"{name}_minutes"] = minutes(getattr(pro.policy, name), name)
    return values


def availability_values(pro: Professional) -> list[Values]:
    return [
        {
            "professional_id": pro.id,
            "position": position,
            "day_of_week": window.day_of_week,
            "start_time": window.start,
            "end_time": window.end,
            "is_active": window.is_active,
        }
        for position, window in enumerate(pro.availability)
    ]


def time_off_values(pro: Professional) -> list[Values]:
    return [
        {
            "professional_id": pro.id,
            "position": position,
            "first_day": off.first_day,
            "last_day": off.last_day,
            "reason": off.reason,
        }
        for position, off in enumerate(pro.time_off)
    ]


def professional_from(
    row: Row, windows: tuple[AvailabilityWindow, ...], days_off: tuple[TimeOff, ...]
) -> Professional:
    policy = _policy(
        row["late_cancellation_refund_percent"], *(row[column] for column in _POLICY_COLUMNS)
    )
    return Professional(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        category=row["category"],
        hourly_rate_cents=row["hourly_rate_cents"],
        time_zone=row["time_zone"],
        location=Location(row["location_lat"], row["location_lng"]),
        currency=row["currency"],
        travel_mode=TravelMode(row["travel_mode"]),
        travel_fee_cents=row["travel_fee_cents"],
        availability=windows,
        time_off=days_off,
        policy=policy,
        version=row["version"],
    )


def window_from(row: Row) -> AvailabilityWindow:
    return _window(row["day_of_week"], row["start_time"], row["end_time"], bool(row["is_active"]))


# Policies and weekly windows are frozen values, and most professionals share a few of them
# (a search reads dozens of professionals, each with a week of windows): each distinct one is
# built, and checked, once.


@lru_cache(maxsize=1024)
def _policy(late_cancellation_refund_percent: int, *durations_minutes: int) -> BookingPolicy:
    return BookingPolicy(
        late_cancellation_refund_percent=late_cancellation_refund_percent,
        **{
            name: timedelta(minutes=value)
            for name, value in zip(POLICY_DURATIONS, durations_minutes, strict=True)
        },
    )


@lru_cache(maxsize=4096)
def _window(day_of_week: int, start: time, end: time, is_active: bool) -> AvailabilityWindow:
    return AvailabilityWindow(day_of_week=day_of_week, start=start, end=end, is_active=is_active)


def time_off_from(row: Row) -> TimeOff:
    return TimeOff(first_day=row["first_day"], last_day=row["last_day"], reason=row["reason"])


# -- clients ---------------------------------------------------------------------------------


def client_values(client: Client) -> Values:
    return {
        "id": client.id,
        "name": client.name,
        "email": client.email,
        "phone": client.phone,
        "time_zone": client.time_zone,
    }


def client_from(row: Row) -> Client:
    return Client(
        id=row["id"], name=row["name"], email=row["email"], phone=row["phone"],
        time_zone=row["time_zone"],
    )  # fmt: skip


# -- bookings --------------------------------------------------------------------------------


def booking_values(booking: Booking) -> Values:
    """Every column but ``version``, which the repository owns."""
    return {
        "id": booking.id,
        "professional_id": booking.professional_id,
        "client_id": booking.client_id,
        "start_time": booking.start,
        "end_time": booking.end,
        "blocked_until": booking.blocked.end,
        "buffer_minutes": minutes(booking.buffer, "buffer"),
        "total_price_cents": booking.total_price_cents,
        "currency": booking.currency,
        "status": booking.status.value,
        "cancellation_reason": booking.cancellation_reason and booking.cancellation_reason.value,
        "payment_intent_id": booking.payment_intent_id,
        "free_cancellation_minutes": minutes(booking.terms.free_cancellation, "free_cancellation"),
        "late_cancellation_refund_percent": booking.terms.late_refund_percent,
        "paid_cents": booking.paid_cents,
        "refund_due_cents": booking.refund_due_cents,
        "refunded_cents": booking.refunded_cents,
        "idempotency_key": booking.idempotency_key,
        "reschedule_count": booking.reschedule_count,
        "created_at": booking.created_at,
        "updated_at": booking.updated_at,
    }


def booking_from(row: Row) -> Booking:
    reason = row["cancellation_reason"]
    return Booking(
        id=row["id"],
        professional_id=row["professional_id"],
        client_id=row["client_id"],
        slot=Slot(row["start_time"], row["end_time"]),
        buffer=timedelta(minutes=row["buffer_minutes"]),
        total_price_cents=row["total_price_cents"],
        currency=row["currency"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=BookingStatus(row["status"]),
        cancellation_reason=CancellationReason(reason) if reason is not None else None,
        payment_intent_id=row["payment_intent_id"],
        terms=_terms(row["free_cancellation_minutes"], row["late_cancellation_refund_percent"]),
        paid_cents=row["paid_cents"],
        refund_due_cents=row["refund_due_cents"],
        refunded_cents=row["refunded_cents"],
        idempotency_key=row["idempotency_key"],
        reschedule_count=row["reschedule_count"],
        version=row["version"],
    )


@lru_cache(maxsize=256)
def _terms(free_cancellation_minutes: int, late_refund_percent: int) -> CancellationTerms:
    return CancellationTerms(
        free_cancellation=timedelta(minutes=free_cancellation_minutes),
        late_refund_percent=late_refund_percent,
    )


# -- payment incidents -----------------------------------------------------------------------


def incident_values(incident: PaymentIncident) -> Values:
    return {
        "reference": incident.reference,
        "kind": incident.kind.value,
        "payment_intent_id": incident.payment_intent_id,
        "booking_id": incident.booking_id,
        "amount_cents": incident.amount_cents,
        "currency": incident.currency,
        "detail": incident.detail[:255],
        "refund_due_cents": incident.refund_due_cents,
        "refunded_cents": incident.refunded_cents,
        "recorded_at": incident.recorded_at,
        "updated_at": incident.updated_at,
    }


def incident_from(row: Row) -> PaymentIncident:
    return PaymentIncident(
        reference=row["reference"],
        kind=IncidentKind(row["kind"]),
        payment_intent_id=row["payment_intent_id"],
        booking_id=row["booking_id"],
        amount_cents=row["amount_cents"],
        currency=row["currency"],
        detail=row["detail"],
        refund_due_cents=row["refund_due_cents"],
        refunded_cents=row["refunded_cents"],
        recorded_at=row["recorded_at"],
        updated_at=row["updated_at"],
    )


# -- outbox ----------------------------------------------------------------------------------


def outbox_values(event: Event, now: datetime, request_id: str | None = None) -> Values:
    """An ``outbox`` row: the event's class name, its fields as JSON, the causing request, and
    a random job key (see ``tables.outbox``)."""
    payload = {field.name: _jsonable(getattr(event, field.name)) for field in fields(event)}
    return {
        "event_type": type(event).__name__,
        "payload": json.dumps(payload, sort_keys=True),
        "occurred_at": event.occurred_at,
        "created_at": now.astimezone(UTC),
        "request_id": request_id,
        "job_key": new_job_key(),
    }


def new_job_key() -> str:
    return uuid4().hex


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value

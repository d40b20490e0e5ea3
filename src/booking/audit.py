"""The audit trail: who changed what, from what to what. Facts the domain derives from a change.

A :class:`Change` names the entity (its type and id), the action, and the fields that may be
shown as they were before and are after (only those that changed; ``before`` is None for a
creation). The actor, the time, the request id and the client address are not the domain's to
know: the unit of work stamps them from the context the entrypoint bound when it writes the
change, in the same transaction as the change itself.

Bookings and professionals are audited by the unit of work itself: it compares what it loaded
with what it stores (:func:`booking_change`, :func:`professional_changes`), so no use case can
forget. Naming a new kind of booking change is one line in ``BOOKING_ACTIONS``. Anything else
(accounts, webhook endpoints) records its :class:`Change` explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from booking.model import Booking, BookingStatus, CancellationReason, Client, Professional

# A JSON value: what ``before`` and ``after`` hold (strings, numbers, booleans, lists of them).
FieldValue = str | int | float | bool | None | list[str]
Fields = Mapping[str, FieldValue]


class ActorKind(StrEnum):
    ACCOUNT = "account"  # a person, logged in (``account_id`` and ``role`` say who)
    SYSTEM = "system"  # an operator's command, or anything not started by a person or job
    STRIPE = "stripe"  # the payment provider's signed webhook
    WORKER = "worker"  # a background job (hold expiry, refunds, reminders)


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    kind: ActorKind
    account_id: UUID | None = None
    role: str | None = None

    @classmethod
    def account(cls, account_id: UUID, role: str) -> Actor:
        return cls(kind=ActorKind.ACCOUNT, account_id=account_id, role=role)

    @property
    def name(self) -> str:
        """How a listing is filtered by actor: the account id, or the kind."""
        return str(self.account_id) if self.account_id is not None else self.kind.value


SYSTEM = Actor(kind=ActorKind.SYSTEM)
STRIPE = Actor(kind=ActorKind.STRIPE)
WORKER = Actor(kind=ActorKind.WORKER)


class Entity(StrEnum):
    BOOKING = "booking"
    PROFESSIONAL = "professional"  # the profile
    AVAILABILITY = "availability"  # a professional's weekly windows (id: the professional's)
    TIME_OFF = "time_off"  # a professional's days off (id: the professional's)
    ACCOUNT = "account"
    CLIENT = "client"  # a client's name and contact details (id: the client's)
    WEBHOOK_ENDPOINT = "webhook_endpoint"


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    entity: Entity
    entity_id: str
    action: str
    before: Fields | None
    after: Fields | None
    # The professional whose own audit (``/professionals/{id}/audit``) lists this change.
    professional_id: UUID | None = None


def changed(
    entity: Entity,
    entity_id: object,
    action: str,
    before: Fields | None,
    after: Fields | None,
    *,
    professional_id: UUID | None = None,
) -> Change:
    """A change keeping, of ``before`` and ``after``, only the fields that differ."""
    if before is not None and after is not None:
        keys = [key for key in after if before.get(key) != after[key]]
        keys += [key for key in before if key not in after]
        before = {key: before.get(key) for key in keys}
        after = {key: after.get(key) for key in keys}
    return Change(
        entity=entity, entity_id=str(entity_id), action=action, before=before, after=after,
        professional_id=professional_id,
    )  # fmt: skip


def booking_fields(booking: Booking) -> dict[str, FieldValue]:
    reason = booking.cancellation_reason
    return {
        "status": booking.status.value,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "professional_id": str(booking.professional_id),
        "client_id": str(booking.client_id),
        "total_price_cents": booking.total_price_cents,
        "currency": booking.currency,
        "cancellation_reason": reason.value if reason is not None else None,
        "paid_cents": booking.paid_cents,
        "refund_due_cents": booking.refund_due_cents,
        "refunded_cents": booking.refunded_cents,
    }


BookingTest = Callable[[Fields, Fields], bool]


def _became(status: BookingStatus) -> BookingTest:
    return lambda before, after: before["status"] != after["status"] == status.value


def _expired(before: Fields, after: Fields) -> bool:
    return (
        _became(BookingStatus.CANCELLED)(before, after)
        and after["cancellation_reason"] == CancellationReason.HOLD_EXPIRED.value
    )


def _rose(field: str) -> BookingTest:
    return lambda before, after: _cents(after[field]) > _cents(before[field])


def _cents(value: FieldValue) -> int:
    return value if isinstance(value, int) else 0


# What a change of a booking is called, by the first test its before and after pass.
BOOKING_ACTIONS: list[tuple[str, BookingTest]] = [
    ("expired", _expired),
    ("cancelled", _became(BookingStatus.CANCELLED)),
    ("confirmed", _became(BookingStatus.CONFIRMED)),
    ("rescheduled", lambda b, a: (b["start"], b["end"]) != (a["start"], a["end"])),
    ("refunded", _rose("refunded_cents")),
    ("payment_received", _rose("paid_cents")),
]


def booking_change(before: Booking | None, after: Booking) -> Change | None:
    """The change from ``before`` (as loaded; None if new) to ``after``; None if no shown
    field changed (attaching a payment intent, say)."""
    now = booking_fields(after)
    if before is None:
        return changed(
            Entity.BOOKING, after.id, "created", None, now, professional_id=after.professional_id
        )
    then = booking_fields(before)
    if then == now:
        return None
    action = next((name for name, test in BOOKING_ACTIONS if test(then, now)), "updated")
    return changed(
        Entity.BOOKING, after.id, action, then, now, professional_id=after.professional_id
    )


def profile_fields(professional: Professional) -> dict[str, FieldValue]:
    return {
        "name": professional.name,
        "email": professional.email,
        "category": professional.category,
        "hourly_rate_cents": professional.hourly_rate_cents,
        "currency": professional.currency,
        "time_zone": professional.time_zone,
        "location": f"{professional.location.lat},{professional.location.lng}",
        "travel_mode": professional.travel_mode.value,
        "travel_fee_cents": professional.travel_fee_cents,
    }


def client_fields(client: Client) -> dict[str, FieldValue]:
    return {
        "name": client.name,
        "email": client.email,
        "phone": client.phone,
        "time_zone": client.time_zone,
    }


def availability_fields(professional: Professional) -> dict[str, FieldValue]:
    return {
        "windows": [
            f"{w.day_of_week} {w.start.isoformat('minutes')}-{w.end.isoformat('minutes')}"
            + ("" if w.is_active else " inactive")
            for w in professional.availability
        ]
    }


def time_off_fields(professional: Professional) -> dict[str, FieldValue]:
    return {
        "days_off": [
            f"{t.first_day.isoformat()}..{t.last_day.isoformat()}" for t in professional.time_off
        ]
    }


_PROFESSIONAL_PARTS: list[tuple[Entity, Callable[[Professional], dict[str, FieldValue]]]] = [
    (Entity.PROFESSIONAL, profile_fields),
    (Entity.AVAILABILITY, availability_fields),
    (Entity.TIME_OFF, time_off_fields),
]


def professional_changes(before: Professional | None, after: Professional) -> list[Change]:
    """One change per part of the professional that changed: profile, availability, time off."""
    if before is None:
        return [
            changed(
                Entity.PROFESSIONAL, after.id, "created", None, profile_fields(after),
                professional_id=after.id,
            )
        ]  # fmt: skip
    found = []
    for entity, fields in _PROFESSIONAL_PARTS:
        then, now = fields(before), fields(after)
        if then != now:
            found.append(
                changed(entity, after.id, "changed", then, now, professional_id=after.id)
            )
    return found

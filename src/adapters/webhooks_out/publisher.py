"""Publishing: the events of one commit and their deliveries, written in that commit.

The unit of work calls :meth:`WebhookPublisher.publish` with its connection just before it
commits, so an event exists exactly when its change does: a change that rolls back publishes
nothing, and none is lost if the process dies after the commit. One ``webhook_events`` row per
event, and one pending ``webhook_deliveries`` row for each enabled endpoint that wants its type
(the endpoints are read once per commit that has events, never otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, insert, select

from adapters.sql.tables import webhook_deliveries, webhook_endpoints, webhook_events
from adapters.webhooks_out.events import (
    PROFESSIONAL_CREATED,
    PROFESSIONAL_UPDATED,
    Change,
    Renderers,
    booking_change,
    new_event_id,
)
from booking.events import Event
from booking.model import Booking, Professional
from booking.ports import Clock


class WebhookPublisher:
    """Deliveries are due at ``clock.now()``: the clock the worker schedules by."""

    def __init__(self, renderers: Renderers, clock: Clock) -> None:
        self.renderers = renderers
        self.clock = clock

    def changes(
        self,
        booking_events: Sequence[tuple[Event, Booking]],
        profiles: Sequence[tuple[bool, Professional]],
        now: datetime,
    ) -> list[Change]:
        """The webhook events of a commit: its bookings' events, then the profiles it wrote
        (``True``: created in this commit)."""
        changes = [
            change
            for event, booking in booking_events
            if (change := booking_change(event, booking, self.renderers)) is not None
        ]
        for created, professional in profiles:
            kind = PROFESSIONAL_CREATED if created else PROFESSIONAL_UPDATED
            data = self.renderers.professional(professional)
            changes.append(Change(kind, str(professional.id), now, data))
        return changes

    def __call__(
        self,
        connection: Connection,
        booking_events: Sequence[tuple[Event, Booking]],
        profiles: Sequence[tuple[bool, Professional]],
        now: datetime,
    ) -> None:
        """Publish a commit's changes on its connection (``SqlUnitOfWork``'s hook)."""
        now = self.clock.now()
        self.publish(connection, self.changes(booking_events, profiles, now), now)

    def publish(self, connection: Connection, changes: Sequence[Change], now: datetime) -> None:
        if not changes:
            return
        endpoints = [
            (row.id, set(json.loads(row.event_types)))
            for row in connection.execute(
                select(webhook_endpoints.c.id, webhook_endpoints.c.event_types).where(
                    webhook_endpoints.c.enabled.is_(True)
                )
            )
        ]
        for change in changes:
            seq = publish_event(connection, change)
            wanting = [endpoint for endpoint, kinds in endpoints if change.type in kinds]
            add_deliveries(connection, seq, wanting, now)


def publish_event(connection: Connection, change: Change) -> int:
    """Store one event; its sequence number."""
    seq = connection.execute(
        insert(webhook_events)
        .values(
            id=new_event_id(),
            type=change.type,
            subject_id=change.subject_id,
            created_at=change.occurred_at,
            data=json.dumps(change.data, separators=(",", ":"), default=str),
        )
        .returning(webhook_events.c.seq)
    ).scalar_one()
    return int(seq)


def add_deliveries(
    connection: Connection, event_seq: int, endpoint_ids: Sequence[UUID], now: datetime
) -> list[int]:
    """Pending deliveries of the event to these endpoints, due now; their ids."""
    ids = []
    for endpoint_id in endpoint_ids:
        ids.append(
            int(
                connection.execute(
                    insert(webhook_deliveries)
                    .values(
                        endpoint_id=endpoint_id, event_seq=event_seq, state="pending",
                        attempts=0, next_attempt_at=now, created_at=now,
                    )
                    .returning(webhook_deliveries.c.id)
                ).scalar_one()
            )
        )  # fmt: skip
    return ids

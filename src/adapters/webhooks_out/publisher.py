"""Publishing: the events of one commit and their deliveries, written in that commit.

The unit of work calls :meth:`WebhookPublisher.publish` with its connection just before it
commits, so an event exists exactly when its change does: a change that rolls back publishes
nothing, and none is lost if the process dies after the commit. One ``webhook_events`` row per
event that an enabled endpoint wants, and one pending ``webhook_deliveries`` row for each such
endpoint. The endpoints are read once per commit that has changes to report; with none
enabled, nothing is rendered or stored.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, insert, select

from adapters.sql.tables import webhook_deliveries, webhook_endpoints, webhook_events
from adapters.webhooks_out.events import (
    BOOKING_EVENT_TYPES,
    PROFESSIONAL_CREATED,
    PROFESSIONAL_UPDATED,
    Change,
    Renderers,
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

    def __call__(
        self,
        connection: Connection,
        booking_events: Sequence[tuple[Event, Booking]],
        profiles: Sequence[tuple[bool, Professional]],
        now: datetime,
    ) -> None:
        """Publish a commit's changes on its connection (``SqlUnitOfWork``'s hook)."""
        if not booking_events and not profiles:
            return
        endpoints = enabled_endpoints(connection)
        wanted = {kind for _, kinds in endpoints for kind in kinds}
        if not wanted:
            return  # nobody listens: nothing is rendered or stored
        now = self.clock.now()
        for change in self.changes(booking_events, profiles, now, wanted):
            seq = publish_event(connection, change)
            interested = [endpoint for endpoint, kinds in endpoints if change.type in kinds]
            add_deliveries(connection, seq, interested, now)

    def changes(
        self,
        booking_events: Sequence[tuple[Event, Booking]],
        profiles: Sequence[tuple[bool, Professional]],
        now: datetime,
        wanted: Collection[str],
    ) -> list[Change]:
        """The webhook events of a commit that some endpoint wants: its bookings' events, then
        the profiles it wrote (``True``: created in this commit)."""
        changes = []
        for event, booking in booking_events:
            kind = BOOKING_EVENT_TYPES.get(type(event))
            if kind in wanted:
                data = self.renderers.booking(booking)
                changes.append(Change(kind, str(booking.id), event.occurred_at, data))
        for created, professional in profiles:
            kind = PROFESSIONAL_CREATED if created else PROFESSIONAL_UPDATED
            if kind in wanted:
                data = self.renderers.professional(professional)
                changes.append(Change(kind, str(professional.id), now, data))
        return changes


def enabled_endpoints(connection: Connection) -> list[tuple[UUID, set[str]]]:
    """The enabled endpoints with the event types each wants."""
    query = select(webhook_endpoints.c.id, webhook_endpoints.c.event_types).where(
        webhook_endpoints.c.enabled.is_(True)
    )
    return [(row.id, set(json.loads(row.event_types))) for row in connection.execute(query)]


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

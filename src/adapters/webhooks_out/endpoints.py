"""The admin's webhook endpoints in SQL: create (with a new secret), read, change, delete,
rotate the secret, and read and act on an endpoint's delivery log.

Secrets are kept in the clear (signing needs them) and shown once, by ``create`` and
``rotate``. After a rotation the previous secret keeps signing, next to the new one, until the
grace period ends; then only the new one signs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import Connection, Engine, RowMapping, delete, func, insert, select, update

from adapters.sql.audit import record
from adapters.sql.errors import storage_errors
from adapters.sql.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)
from adapters.webhooks_out.events import PING, Change
from adapters.webhooks_out.publisher import add_deliveries, publish_event
from adapters.webhooks_out.signing import new_secret
from booking.audit import Entity, FieldValue, changed


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    id: UUID
    url: str
    description: str
    event_types: tuple[str, ...]
    enabled: bool
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None  # while a rotation's grace period runs
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    attempted_at: datetime
    outcome: str  # succeeded | failed
    status_code: int | None
    duration_ms: int
    response_body: str
    error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    id: int
    event_id: str
    event_type: str
    state: str  # pending | succeeded | dead
    attempts: tuple[Attempt, ...]
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None


class SqlWebhookEndpoints:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self, *, url: str, description: str, event_types: Sequence[str], enabled: bool,
        now: datetime,
    ) -> tuple[Endpoint, str]:
        """A new endpoint and its signing secret (to show once)."""
        secret, endpoint_id = new_secret(), uuid4()
        with storage_errors(), self.engine.begin() as connection:
            connection.execute(
                insert(webhook_endpoints).values(
                    id=endpoint_id, url=url, description=description,
                    event_types=_types_json(event_types), enabled=enabled, secret=secret,
                    consecutive_dead=0, created_at=now, updated_at=now,
                )
            )
            after = _shown(url, description, event_types, enabled)
            change = changed(Entity.WEBHOOK_ENDPOINT, endpoint_id, "created", None, after)
            record(connection, change)
        return self._get(endpoint_id, now), secret

    def list(self, now: datetime) -> list[Endpoint]:
        with storage_errors(), self.engine.connect() as connection:
            found = connection.execute(
                select(webhook_endpoints).order_by(webhook_endpoints.c.created_at,
                                                   webhook_endpoints.c.id)
            ).mappings()  # fmt: skip
            return [_endpoint(row, now) for row in found]

    def get(self, endpoint_id: UUID, now: datetime) -> Endpoint | None:
        with storage_errors(), self.engine.connect() as connection:
            row = connection.execute(
                select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
            ).mappings().first()
        return None if row is None else _endpoint(row, now)

    def _get(self, endpoint_id: UUID, now: datetime) -> Endpoint:
        found = self.get(endpoint_id, now)
        if found is None:
            raise LookupError(f"webhook endpoint {endpoint_id} vanished")  # deleted meanwhile
        return found

    def update(
        self, endpoint_id: UUID, changes: Mapping[str, object], now: datetime
    ) -> Endpoint | None:
        """Change ``url``, ``description``, ``event_types`` or ``enabled``. Enabling an
        endpoint forgets its count of dead deliveries and why it was disabled."""
        values: dict[str, object] = {"updated_at": now}
        for name in ("url", "description", "enabled"):
            if name in changes:
                values[name] = changes[name]
        if "event_types" in changes:
            values["event_types"] = _types_json(changes["event_types"])  # type: ignore[arg-type]
        if changes.get("enabled") is True:
            values.update(consecutive_dead=0, disabled_reason=None)
        with storage_errors(), self.engine.begin() as connection:
            before = _shown_row(connection, endpoint_id)
            result = connection.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id == endpoint_id)
                .values(**values)
            )
            after = _shown_row(connection, endpoint_id)
            if before is not None and after is not None and before != after:
                change = changed(Entity.WEBHOOK_ENDPOINT, endpoint_id, "changed", before, after)
                record(connection, change)
        return self.get(endpoint_id, now) if result.rowcount else None

    def delete(self, endpoint_id: UUID) -> bool:
        """Remove the endpoint with its delivery log; False if there was none."""
        deliveries = select(webhook_deliveries.c.id).where(
            webhook_deliveries.c.endpoint_id == endpoint_id
        )
        with storage_errors(), self.engine.begin() as connection:
            before = _shown_row(connection, endpoint_id)
            if before is not None:
                change = changed(Entity.WEBHOOK_ENDPOINT, endpoint_id, "deleted", before, None)
                record(connection, change)
            connection.execute(
                delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(deliveries))
            )
            connection.execute(
                delete(webhook_deliveries).where(webhook_deliveries.c.endpoint_id == endpoint_id)
            )
            result = connection.execute(
                delete(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
            )
        return bool(result.rowcount)

    def rotate(
        self, endpoint_id: UUID, grace: timedelta, now: datetime
    ) -> tuple[Endpoint, str] | None:
        """A new secret; the current one keeps signing too until ``now + grace``."""
        secret = new_secret()
        with storage_errors(), self.engine.begin() as connection:
            result = connection.execute(
                update(webhook_endpoints)
                .where(webhook_endpoints.c.id == endpoint_id)
                .values(
                    previous_secret=webhook_endpoints.c.secret,
                    previous_expires_at=now + grace,
                    secret=secret,
                    updated_at=now,
                )
            )
            if result.rowcount:  # the secrets themselves are never in the audit log
                change = changed(Entity.WEBHOOK_ENDPOINT, endpoint_id, "secret_rotated", None, None)
                record(connection, change)
        if not result.rowcount:
            return None
        return self._get(endpoint_id, now), secret

    def deliveries(self, endpoint_id: UUID, *, limit: int, offset: int) -> list[Delivery]:
        """The endpoint's deliveries, newest first, each with every attempt (oldest first)."""
        query = (
            select(webhook_deliveries, webhook_events.c.id.label("event_id"),
                   webhook_events.c.type.label("event_type"))
            .join(webhook_events, webhook_events.c.seq == webhook_deliveries.c.event_seq)
            .where(webhook_deliveries.c.endpoint_id == endpoint_id)
            .order_by(webhook_deliveries.c.id.desc())
            .limit(limit)
            .offset(offset)
        )  # fmt: skip
        with storage_errors(), self.engine.connect() as connection:
            found = list(connection.execute(query).mappings())
            ids = [row["id"] for row in found]
            attempts: dict[int, list[Attempt]] = {delivery_id: [] for delivery_id in ids}
            for row in connection.execute(
                select(webhook_attempts)
                .where(webhook_attempts.c.delivery_id.in_(ids))
                .order_by(webhook_attempts.c.id)
            ).mappings():
                attempts[row["delivery_id"]].append(_attempt(row))
        return [_delivery(row, attempts[row["id"]]) for row in found]

    def redeliver(self, endpoint_id: UUID, delivery_id: int, now: datetime) -> Delivery | None:
        """A new pending delivery of the same event (same id) to the endpoint, due now."""
        with storage_errors(), self.engine.begin() as connection:
            seq = connection.scalar(
                select(webhook_deliveries.c.event_seq).where(
                    webhook_deliveries.c.id == delivery_id,
                    webhook_deliveries.c.endpoint_id == endpoint_id,
                )
            )
            if seq is None:
                return None
            (new_id,) = add_deliveries(connection, int(seq), [endpoint_id], now)
        return self._one(new_id)

    def ping(self, endpoint_id: UUID, now: datetime) -> Delivery | None:
        """A ``ping`` event for this endpoint alone, due now. Unlike events, it is delivered
        to a disabled endpoint too: an admin can test it before enabling it again."""
        with storage_errors(), self.engine.begin() as connection:
            exists = connection.scalar(
                select(func.count()).where(webhook_endpoints.c.id == endpoint_id)
            )
            if not exists:
                return None
            data: dict[str, object] = {"endpoint_id": str(endpoint_id)}
            seq = publish_event(connection, Change(PING, str(endpoint_id), now, data))
            (new_id,) = add_deliveries(connection, seq, [endpoint_id], now)
        return self._one(new_id)

    def _one(self, delivery_id: int) -> Delivery:
        query = (
            select(webhook_deliveries, webhook_events.c.id.label("event_id"),
                   webhook_events.c.type.label("event_type"))
            .join(webhook_events, webhook_events.c.seq == webhook_deliveries.c.event_seq)
            .where(webhook_deliveries.c.id == delivery_id)
        )  # fmt: skip
        with storage_errors(), self.engine.connect() as connection:
            row = connection.execute(query).mappings().one()
        return _delivery(row, [])


def _types_json(event_types: Sequence[str]) -> str:
    return json.dumps(sorted(set(event_types)))


def _endpoint(row: RowMapping, now: datetime) -> Endpoint:
    rotating = row["previous_expires_at"]
    return Endpoint(
        id=row["id"],
        url=row["url"],
        description=row["description"],
        event_types=tuple(json.loads(row["event_types"])),
        enabled=row["enabled"],
        disabled_reason=row["disabled_reason"],
        previous_secret_expires_at=rotating if rotating is not None and rotating > now else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _attempt(row: RowMapping) -> Attempt:
    return Attempt(
        attempted_at=row["attempted_at"], outcome=row["outcome"], status_code=row["status_code"],
        duration_ms=row["duration_ms"], response_body=row["response_body"], error=row["error"],
    )  # fmt: skip


def _delivery(row: RowMapping, attempts: Sequence[Attempt]) -> Delivery:
    return Delivery(
        id=row["id"], event_id=row["event_id"], event_type=row["event_type"],
        state=row["state"], attempts=tuple(attempts), next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"], finished_at=row["finished_at"],
    )  # fmt: skip


def _shown(
    url: str, description: str, event_types: Sequence[str], enabled: bool
) -> dict[str, FieldValue]:
    """An endpoint's fields the audit log may show: never its secrets."""
    return {"url": url, "description": description, "event_types": sorted(event_types),
            "enabled": enabled}  # fmt: skip


def _shown_row(connection: Connection, endpoint_id: UUID) -> dict[str, FieldValue] | None:
    row = connection.execute(
        select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    ).mappings().first()
    if row is None:
        return None
    return _shown(row["url"], row["description"], json.loads(row["event_types"]), row["enabled"])

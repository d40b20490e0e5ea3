"""The worker's side: claim the deliveries that are due, send each, record every attempt.

``deliver_due`` claims a batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers running
it at once take disjoint deliveries) by moving their next attempt a lease into the future, then
sends each outside any transaction: the URL is checked again and the POST goes to the checked
address (``addresses``), with a time limit and no redirects (``transport``). A 2xx answer is a
success; anything else (another status, a refused URL, no answer) is a failure, retried on the
``RetryPolicy`` until its window ends, when the delivery is *dead*. Each endpoint counts its
dead deliveries since its last success; at ``disable_after`` it is disabled and every admin is
emailed. A worker that dies mid-send leaves the delivery to be claimed again when the lease
ends: delivery is at least once, and receivers dedupe by the event's ``id``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, Engine, RowMapping, insert, or_, select, update

from adapters.sql.audit import record
from adapters.sql.errors import storage_errors
from adapters.sql.tables import (
    users,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)
from adapters.webhooks_out import signing, transport
from adapters.webhooks_out.addresses import Target, UrlPolicy, UrlRefused
from adapters.webhooks_out.events import PING, envelope
from adapters.webhooks_out.retries import RetryPolicy
from booking.audit import Entity, changed
from booking.ports import Clock, Email, Notifier

logger = logging.getLogger(__name__)

Post = Callable[[Target, bytes, dict[str, str]], transport.Answer]
ERROR_KEPT = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySettings:
    timeout_seconds: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    disable_after: int = 5  # consecutive dead deliveries that disable an endpoint
    batch_size: int = 10
    # A claimed delivery is left alone this long: longer than a batch can take (10 sends of at
    # most a connect and a read of timeout_seconds each), so no other worker sends it twice.
    lease: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class _Due:
    id: int
    endpoint_id: UUID
    url: str
    secrets: tuple[str, ...]
    attempts: int
    created_at: datetime
    body: bytes
    event_id: str
    event_type: str


@dataclass(frozen=True, slots=True)
class _Result:
    outcome: str
    status_code: int | None
    duration_ms: int
    response_body: str
    error: str | None


class WebhookDeliverer:
    def __init__(
        self,
        engine: Engine,
        *,
        policy: UrlPolicy,
        clock: Clock,
        notifier: Notifier,
        settings: DeliverySettings | None = None,
        post: Post | None = None,
        wall: Callable[[], float] = time.time,  # the signature's timestamp: the real time
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.clock = clock
        self.notifier = notifier
        self.settings = settings or DeliverySettings()
        self.post = post or self._post
        self.wall = wall

    def deliver_due(self) -> int:
        """Send every delivery due now, batch by batch; how many were attempted."""
        attempted = 0
        while True:
            due = self._claim()
            for delivery in due:
                self._deliver(delivery)
            attempted += len(due)
            if len(due) < self.settings.batch_size:
                return attempted

    def _post(self, target: Target, body: bytes, headers: dict[str, str]) -> transport.Answer:
        return transport.post(target, body, headers, timeout=self.settings.timeout_seconds)

    def _claim(self) -> list[_Due]:
        now = self.clock.now()
        d, e, ep = webhook_deliveries, webhook_events, webhook_endpoints
        query = (
            select(
                d.c.id, d.c.endpoint_id, d.c.attempts, d.c.created_at, ep.c.url, ep.c.secret,
                ep.c.previous_secret, ep.c.previous_expires_at, e.c.seq, e.c.id.label("event_id"),
                e.c.type, e.c.created_at.label("event_created"), e.c.data,
            )
            .join(e, e.c.seq == d.c.event_seq)
            .join(ep, ep.c.id == d.c.endpoint_id)
            .where(
                d.c.state == "pending",
                d.c.next_attempt_at <= now,
                or_(ep.c.enabled.is_(True), e.c.type == PING),
            )
            .order_by(d.c.next_attempt_at, d.c.id)
            .limit(self.settings.batch_size)
        )  # fmt: skip
        with storage_errors(), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(of=d, skip_locked=True)
            found = list(connection.execute(query).mappings())
            if found:
                connection.execute(
                    update(d)
                    .where(d.c.id.in_([row["id"] for row in found]))
                    .values(next_attempt_at=now + self.settings.lease)
                )
        return [self._due(row, now) for row in found]

    def _due(self, row: RowMapping, now: datetime) -> _Due:
        secrets = [row["secret"]]
        expires = row["previous_expires_at"]
        if row["previous_secret"] is not None and expires is not None and expires > now:
            secrets.append(row["previous_secret"])
        body = envelope(
            event_id=row["event_id"], kind=row["type"], created=row["event_created"],
            sequence=row["seq"], data=row["data"],
        )  # fmt: skip
        return _Due(
            id=row["id"], endpoint_id=row["endpoint_id"], url=row["url"], secrets=tuple(secrets),
            attempts=row["attempts"], created_at=row["created_at"], body=body,
            event_id=row["event_id"], event_type=row["type"],
        )  # fmt: skip

    def _deliver(self, due: _Due) -> None:
        started = time.monotonic()
        result = self._attempt(due)
        if result.duration_ms < 0:  # no HTTP exchange measured it
            elapsed = round((time.monotonic() - started) * 1000)
            result = _Result(result.outcome, None, elapsed, "", result.error)
        self._record(due, result)

    def _attempt(self, due: _Due) -> _Result:
        try:
            target = self.policy.check(due.url)
        except UrlRefused as refused:
            return _Result("failed", None, -1, "", f"refused: {refused}"[:ERROR_KEPT])
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "hourbook-webhooks/1",
            "Hourbook-Event-Id": due.event_id,
            "Hourbook-Event-Type": due.event_type,
            signing.HEADER: signing.header(due.secrets, int(self.wall()), due.body),
        }
        try:
            answer = self.post(target, due.body, headers)
        except OSError as error:
            return _Result("failed", None, -1, "", f"no answer: {error!r}"[:ERROR_KEPT])
        except Exception as error:  # recorded as a failure: one bad send must not stop the rest
            logger.exception("webhook delivery %s: the send failed unexpectedly", due.id)
            return _Result("failed", None, -1, "", f"error: {error!r}"[:ERROR_KEPT])
        outcome = "succeeded" if 200 <= answer.status < 300 else "failed"
        return _Result(outcome, answer.status, answer.duration_ms, answer.body, None)

    def _record(self, due: _Due, result: _Result) -> None:
        now = self.clock.now()
        failures = due.attempts + 1
        state, following = "succeeded", None
        if result.outcome == "failed":
            following = self.settings.retry.next_attempt(
                created_at=due.created_at, failures=failures, now=now
            )
            state = "pending" if following is not None else "dead"
        disabled, admins = False, []
        with storage_errors(), self.engine.begin() as connection:
            connection.execute(
                insert(webhook_attempts).values(
                    delivery_id=due.id, attempted_at=now, outcome=result.outcome,
                    status_code=result.status_code, duration_ms=result.duration_ms,
                    response_body=result.response_body, error=result.error,
                )
            )  # fmt: skip
            connection.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == due.id)
                .values(
                    state=state, attempts=failures, next_attempt_at=following,
                    finished_at=None if state == "pending" else now,
                )
            )  # fmt: skip
            if state == "succeeded":
                connection.execute(
                    update(webhook_endpoints)
                    .where(webhook_endpoints.c.id == due.endpoint_id)
                    .values(consecutive_dead=0)
                )
            elif state == "dead":
                disabled = self._count_dead(connection, due.endpoint_id, now)
                admins = self._admins(connection) if disabled else []
        logger.log(
            logging.INFO if state != "dead" else logging.WARNING,
            "webhook delivery %s (%s %s) to endpoint %s: %s, %s", due.id, due.event_type,
            due.event_id, due.endpoint_id, result.outcome, state,
        )  # fmt: skip
        if disabled:
            self._tell_admins(admins, due)

    def _count_dead(self, connection: Connection, endpoint_id: UUID, now: datetime) -> bool:
        """One more dead delivery; True if it disabled the endpoint just now."""
        ep = webhook_endpoints
        connection.execute(
            update(ep)
            .where(ep.c.id == endpoint_id)
            .values(consecutive_dead=ep.c.consecutive_dead + 1)
        )
        limit = self.settings.disable_after
        result = connection.execute(
            update(ep)
            .where(ep.c.id == endpoint_id, ep.c.enabled.is_(True), ep.c.consecutive_dead >= limit)
            .values(
                enabled=False, updated_at=now,
                disabled_reason=f"{limit} deliveries in a row failed for good",
            )
        )  # fmt: skip
        if result.rowcount:  # by whoever runs the job: the worker
            change = changed(Entity.WEBHOOK_ENDPOINT, endpoint_id, "disabled",
                             {"enabled": True}, {"enabled": False})  # fmt: skip
            record(connection, change)
        return bool(result.rowcount)

    @staticmethod
    def _admins(connection: Connection) -> list[str]:
        return list(connection.scalars(select(users.c.email).where(users.c.role == "admin")))

    def _tell_admins(self, admins: Sequence[str], due: _Due) -> None:
        logger.error("webhook endpoint %s disabled: %s deliveries in a row are dead",
                     due.endpoint_id, self.settings.disable_after)  # fmt: skip
        body = (
            f"The webhook endpoint {due.endpoint_id} ({due.url}) was disabled: its last"
            f" {self.settings.disable_after} deliveries failed on every attempt for"
            f" {_describe(self.settings.retry.window)}.\n\n"
            "See GET /admin/webhook-endpoints/{id}/deliveries for what it answered; once the"
            " receiver works, enable it with PATCH /admin/webhook-endpoints/{id}"
            ' {"enabled": true}.\n'
        )
        for admin in admins:
            try:
                self.notifier.send(Email(admin, "hourbook: a webhook endpoint was disabled", body))
            except Exception:  # the endpoint stays disabled; the log line above says so too
                logger.exception("could not email %s about endpoint %s", admin, due.endpoint_id)


def _describe(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 24 else f"{hours:g} hours"


"""What the webhook gauges show, read from the database at each scrape: deliveries by state,
how long the oldest due delivery has waited, and how many endpoints are disabled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from adapters.sql.errors import storage_errors
from adapters.sql.tables import webhook_attempts, webhook_deliveries, webhook_endpoints

STATES = ("pending", "succeeded", "dead")
OUTCOMES = ("succeeded", "failed")


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookStats:
    deliveries: dict[str, int]  # by state
    attempts: dict[str, int]  # by outcome
    oldest_due_seconds: float  # how long the longest-waiting due delivery has been due
    disabled_endpoints: int


def read_stats(engine: Engine, now: datetime) -> WebhookStats:
    d = webhook_deliveries
    with storage_errors(), engine.connect() as connection:
        states = dict.fromkeys(STATES, 0) | {
            state: count
            for state, count in connection.execute(
                select(d.c.state, func.count()).group_by(d.c.state)
            )
        }
        outcomes = dict.fromkeys(OUTCOMES, 0) | {
            outcome: count
            for outcome, count in connection.execute(
                select(webhook_attempts.c.outcome, func.count()).group_by(
                    webhook_attempts.c.outcome
                )
            )
        }
        oldest = connection.scalar(
            select(func.min(d.c.next_attempt_at)).where(d.c.state == "pending")
        )
        disabled = connection.scalar(
            select(func.count()).where(webhook_endpoints.c.enabled.is_(False))
        )
    waited = 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
    return WebhookStats(
        deliveries=states, attempts=outcomes, oldest_due_seconds=waited,
        disabled_endpoints=int(disabled or 0),
    )  # fmt: skip

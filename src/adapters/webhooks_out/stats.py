"""What the webhook gauges show, read from the database at each scrape, each through an index:
attempts of the last hour by outcome, deliveries pending and those dead in the last day, how
long the oldest due delivery has waited, and how many endpoints are disabled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from adapters.sql.errors import storage_errors
from adapters.sql.tables import webhook_attempts, webhook_deliveries, webhook_endpoints

OUTCOMES = ("succeeded", "failed")
RECENT_ATTEMPTS = timedelta(hours=1)
RECENT_DEAD = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookStats:
    attempts_last_hour: dict[str, int]  # by outcome
    pending: int  # deliveries due or waiting for a retry
    dead_last_day: int  # deliveries that died in the last 24 hours
    oldest_due_seconds: float  # how long the longest-waiting due delivery has been due
    disabled_endpoints: int


def read_stats(engine: Engine, now: datetime) -> WebhookStats:
    d, a = webhook_deliveries, webhook_attempts
    with storage_errors(), engine.connect() as connection:
        attempts = dict.fromkeys(OUTCOMES, 0) | {
            outcome: count
            for outcome, count in connection.execute(
                select(a.c.outcome, func.count())
                .where(a.c.attempted_at > now - RECENT_ATTEMPTS)
                .group_by(a.c.outcome)
            )
        }
        pending, oldest = connection.execute(
            select(func.count(), func.min(d.c.next_attempt_at)).where(d.c.state == "pending")
        ).one()
        dead = connection.scalar(
            select(func.count()).where(d.c.finished_at > now - RECENT_DEAD, d.c.state == "dead")
        )
        disabled = connection.scalar(
            select(func.count()).where(webhook_endpoints.c.enabled.is_(False))
        )
    waited = 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
    return WebhookStats(
        attempts_last_hour=attempts, pending=int(pending), dead_last_day=int(dead or 0),
        oldest_due_seconds=waited, disabled_endpoints=int(disabled or 0),
    )  # fmt: skip

"""The background jobs, as plain functions of a :class:`JobContext`.

Both runners call these: RQ in production (``adapters.jobs.rq_tasks``) and the in-process runner of
the embedded default (``adapters.jobs.inline_runner``). Every job is idempotent, so a retry, a
duplicate enqueue or an overlapping run changes nothing the first run did not:

- ``send_notifications``: each email is claimed in the sent log by (cause, recipient) first;
  then the payment of a hold that ended unpaid is released (``release_payment_after``), which
  the provider makes idempotent by the booking's key. Mail about accounts (verification and
  password reset links, ``adapters.sql.account_mail``) is composed by ``account_mail`` and
  sent the same way;
- ``expire_holds``, ``settle_refunds``: the service layer only moves bookings forward;
- ``send_reminders``: keyed by booking and start time in the sent log;
- ``deliver_webhooks``: claims each due delivery before sending it (at least once: receivers
  dedupe by the event id);
- ``purge_expired_records``: deletes what is past its retention.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, delete, select

from adapters.notifications.sent_log import SentLog
from adapters.request_context import actor_bound, request_id_bound
from adapters.sql.account_mail import ACCOUNT_MAIL
from adapters.sql.audit import SqlAuditLog
from adapters.sql.errors import storage_errors
from adapters.sql.event_codec import BadEventPayload, decode_event
from adapters.sql.tables import (
    bookings,
    outbox,
    password_reset_tokens,
    processed_webhook_events,
    revoked_tokens,
    sent_emails,
    token_families,
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
)
from booking import services
from booking.audit import WORKER
from booking.errors import PaymentUnavailable
from booking.model import BookingStatus
from booking.notifications import emails_for, reminder_emails
from booking.ports import BookingQuery, Clock, Email, Notifier, PaymentGateway, UnitOfWork

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=30)  # processed webhook ids, outbox rows, sent emails, webhook log

# The audit log is purged in batches, each its own short transaction, so a first purge after a
# long time (or a lowered retention) never holds a long lock; the rest goes at the next run.
AUDIT_PURGE_BATCH = 1000
AUDIT_PURGE_BATCHES = 20

@dataclass(frozen=True, kw_only=True)
class JobContext:
    engine: Engine
    uow: Callable[[], UnitOfWork]
    payments: PaymentGateway
    notifier: Notifier
    clock: Clock
    sent_log: SentLog
    hold_time: timedelta = timedelta(minutes=15)
    reminder_lead: timedelta = timedelta(hours=24)
    purge_idempotency: Callable[[datetime], int] | None = None  # None: the store expires keys
    # Composes mail about accounts (adapters.sql.account_mail) from its outbox row's type and
    # payload: the entrypoints hold the keys its links are signed with. None: such rows fail.
    account_mail: Callable[[str, str], Sequence[Email]] | None = None
    audit_retention: timedelta | None = None  # None: the audit log is kept for ever
    # Sends the outgoing webhooks that are due (adapters.webhooks_out); None: none are sent.
    deliver_webhooks: Callable[[], int] | None = None


P = ParamSpec("P")
R = TypeVar("R")


def _as_worker(job: Callable[P, R]) -> Callable[P, R]:
    """Run ``job`` as the ``worker`` actor: the audit log names it for what the job changes."""

    @functools.wraps(job)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with actor_bound(WORKER):
            return job(*args, **kwargs)

    return run


@_as_worker
def send_notifications(ctx: JobContext, outbox_id: int) -> int:
    """Tell the payment provider what one outbox event means for it, then send the event's
    emails, each at most once; how many emails were sent now. Raises (and is retried) while
    the mail server or the provider cannot be reached."""
    if not isinstance(outbox_id, int) or isinstance(outbox_id, bool) or outbox_id < 1:
        raise BadEventPayload(f"outbox id must be a positive integer, not {outbox_id!r}")
    with storage_errors(), ctx.engine.connect() as connection:
        row = connection.execute(
            select(
                outbox.c.event_type, outbox.c.payload, outbox.c.request_id, outbox.c.job_key
            ).where(outbox.c.id == outbox_id)
        ).first()
    if row is None:
        raise BadEventPayload(f"no outbox row {outbox_id}")
    with request_id_bound(row.request_id):  # this job's log lines carry the causing request's
        try:
            # By the row's random key: ids repeat across databases and after a restore.
            cause = f"outbox-{row.job_key or outbox_id}"
            sent = send_once(ctx, cause, _emails_of(ctx, row.event_type, row.payload))
        except Exception as error:
            logger.warning("outbox %s (%s): notifications failed: %r", outbox_id,
                           row.event_type, error)
            raise
        logger.info("outbox %s (%s): %s email(s) sent", outbox_id, row.event_type, sent)
    return sent


def _emails_of(ctx: JobContext, event_type: str, payload: str) -> Sequence[Email]:
    if event_type in ACCOUNT_MAIL and ctx.account_mail is not None:
        return ctx.account_mail(event_type, payload)
    event = decode_event(event_type, payload)
    # The provider first: releasing an ended hold's payment may find that it was paid after
    # all (a lost webhook), and the emails then say so instead of "not paid".
    services.release_payment_after(event, uow=ctx.uow(), payments=ctx.payments, clock=ctx.clock)
    return emails_for(event, ctx.uow())


def send_once(ctx: JobContext, cause: str, emails: Sequence[Email]) -> int:
    sent = 0
    for position, email in enumerate(emails):
        key = f"{cause}:{position}:{email.to}"
        if not ctx.sent_log.claim(key):
            continue
        try:
            ctx.notifier.send(email)
        except BaseException:
            ctx.sent_log.release(key)
            raise
        ctx.sent_log.mark_sent(key)
        sent += 1
    return sent


@_as_worker
def expire_holds(ctx: JobContext) -> int:
    expired = services.expire_holds(
        uow=ctx.uow(), payments=ctx.payments, clock=ctx.clock, hold_time=ctx.hold_time
    )
    return len(expired)


@_as_worker
def settle_refunds(ctx: JobContext, *, batch_size: int = 100) -> int:
    """Pay refunds that are owed but could not be made when decided, on bookings and on stray
    payments (``booking.incidents``); how many were paid."""
    with storage_errors(), ctx.engine.connect() as connection:
        owed = list(
            connection.scalars(
                select(bookings.c.id)
                .where(bookings.c.refund_due_cents > bookings.c.refunded_cents)
                .order_by(bookings.c.updated_at)
                .limit(batch_size)
            )
        )
    settled = 0
    for booking_id in owed:
        try:
            services.settle_refund(
                booking_id, uow=ctx.uow(), payments=ctx.payments, clock=ctx.clock
            )
        except PaymentUnavailable as error:
            logger.warning("refund for booking %s still owed: %s", booking_id, error)
            continue
        settled += 1
    uow = ctx.uow()
    with uow:
        strays = uow.incidents.refunds_owed(batch_size)
    for reference in strays:
        try:
            services.settle_incident_refund(
                reference, uow=ctx.uow(), payments=ctx.payments, clock=ctx.clock
            )
        except PaymentUnavailable as error:
            logger.warning("refund of stray payment %s still owed: %s", reference, error)
            continue
        settled += 1
    return settled


@_as_worker
def send_reminders(ctx: JobContext, *, page: int = 100) -> int:
    """Remind client and professional of confirmed bookings starting within the lead time."""
    now = ctx.clock.now()
    sent = 0
    offset = 0
    while True:
        query = BookingQuery(
            status=BookingStatus.CONFIRMED,
            starts_from=now,
            starts_before=now + ctx.reminder_lead,
            limit=page,
            offset=offset,
        )
        with ctx.uow() as uow:
            found = [
                (b, uow.professionals.get(b.professional_id), uow.clients.get(b.client_id))
                for b in uow.bookings.list(query)
            ]
        for booking, professional, client in found:
            if professional is not None and client is not None:
                cause = f"reminder-{booking.id}-{int(booking.start.timestamp())}"
                sent += send_once(ctx, cause, reminder_emails(booking, professional, client))
        if len(found) < page:
            return sent
        offset += page


@_as_worker
def deliver_webhooks(ctx: JobContext) -> int:
    """Send the outgoing webhook deliveries that are due; how many were attempted."""
    return ctx.deliver_webhooks() if ctx.deliver_webhooks is not None else 0


@_as_worker
def purge_expired_records(ctx: JobContext) -> int:
    """Expired idempotency keys, revocations, logins and password reset tokens, and webhook
    ids, dispatched outbox rows, the sent log's keys, finished outgoing webhook deliveries and
    audit log entries past retention."""
    now = ctx.clock.now()
    purged = ctx.purge_idempotency(now) if ctx.purge_idempotency is not None else 0
    if ctx.audit_retention is not None:
        purged += SqlAuditLog(ctx.engine).purge_before(
            now - ctx.audit_retention, batch_size=AUDIT_PURGE_BATCH, max_batches=AUDIT_PURGE_BATCHES
        )
    cutoff = now - RETENTION
    with storage_errors(), ctx.engine.begin() as connection:
        purged += connection.execute(
            delete(processed_webhook_events).where(processed_webhook_events.c.processed_at < cutoff)
        ).rowcount
        purged += connection.execute(
            delete(outbox).where(outbox.c.dispatched_at < cutoff)
        ).rowcount
        purged += connection.execute(
            delete(sent_emails).where(sent_emails.c.claimed_at < cutoff)
        ).rowcount
        purged += _purge_webhook_log(connection, cutoff)
        # Revocations and logins matter only until their tokens would have expired anyway, and
        # so do password reset tokens.
        for table in (revoked_tokens, token_families, password_reset_tokens):
            purged += connection.execute(delete(table).where(table.c.expires_at <= now)).rowcount
    return purged


def _purge_webhook_log(connection: Connection, cutoff: datetime) -> int:
    """Outgoing webhook deliveries finished before ``cutoff``, their attempts, and the events
    left with no delivery."""
    finished = select(webhook_deliveries.c.id).where(webhook_deliveries.c.finished_at < cutoff)
    purged = connection.execute(
        delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(finished))
    ).rowcount
    purged += connection.execute(
        delete(webhook_deliveries).where(webhook_deliveries.c.finished_at < cutoff)
    ).rowcount
    delivered = select(webhook_deliveries.c.event_seq)
    return purged + connection.execute(
        delete(webhook_events).where(
            webhook_events.c.created_at < cutoff, webhook_events.c.seq.not_in(delivered)
        )
    ).rowcount

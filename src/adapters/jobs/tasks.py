"""The background jobs, as plain functions of a :class:`JobContext`.

Both runners call these: RQ in production (``adapters.jobs.rq_tasks``) and the in-process runner of
the embedded default (``adapters.jobs.inline_runner``). Every job is idempotent, so a retry, a
duplicate enqueue or an overlapping run changes nothing the first run did not:

- ``send_notifications``: each email is claimed in the sent log by (cause, recipient) first;
  then the payment of a hold that ended unpaid is released (``release_payment_after``), which
  the provider makes idempotent by the booking's key;
- ``expire_holds``, ``settle_refunds``: the service layer only moves bookings forward;
- ``send_reminders``: keyed by booking and start time in the sent log;
- ``purge_expired_records``: deletes what is past its retention.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select

from adapters.notifications.sent_log import SentLog
from adapters.request_context import request_id_bound
from adapters.sql.errors import storage_errors
from adapters.sql.event_codec import BadEventPayload, decode_event
from adapters.sql.tables import (
    bookings,
    outbox,
    processed_webhook_events,
    revoked_tokens,
    sent_emails,
    token_families,
)
from booking import services
from booking.errors import PaymentUnavailable
from booking.model import BookingStatus
from booking.notifications import emails_for, reminder_emails
from booking.ports import BookingQuery, Clock, Email, Notifier, PaymentGateway, UnitOfWork

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=30)  # processed webhook ids, dispatched outbox rows, sent emails


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
            event = decode_event(row.event_type, row.payload)
            # The provider first: releasing an ended hold's payment may find that it was paid
            # after all (a lost webhook), and the emails then say so instead of "not paid".
            # By the row's random key: ids repeat across databases and after a restore.
            cause = f"outbox-{row.job_key or outbox_id}"
            services.release_payment_after(
                event, uow=ctx.uow(), payments=ctx.payments, clock=ctx.clock
            )
            sent = send_once(ctx, cause, emails_for(event, ctx.uow()))
        except Exception as error:
            logger.warning("outbox %s (%s): notifications failed: %r", outbox_id,
                           row.event_type, error)
            raise
        logger.info("outbox %s (%s): %s email(s) sent", outbox_id, row.event_type, sent)
    return sent


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


def expire_holds(ctx: JobContext) -> int:
    expired = services.expire_holds(
        uow=ctx.uow(), payments=ctx.payments, clock=ctx.clock, hold_time=ctx.hold_time
    )
    return len(expired)


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


def purge_expired_records(ctx: JobContext) -> int:
    """Expired idempotency keys, revocations and logins, and webhook ids, dispatched outbox
    rows and the sent log's keys past retention."""
    now = ctx.clock.now()
    purged = ctx.purge_idempotency(now) if ctx.purge_idempotency is not None else 0
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
        # Revocations and logins matter only until their tokens would have expired anyway.
        for table in (revoked_tokens, token_families):
            purged += connection.execute(delete(table).where(table.c.expires_at <= now)).rowcount
    return purged

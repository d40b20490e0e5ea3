"""Ports: what the domain needs from the outside world, owned here and implemented by adapters.

Every port is a Protocol, so adapters satisfy them structurally and the domain never imports an
adapter. Errors raised through a port are the domain's own (``booking.errors``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from booking.audit import Change
from booking.calendar import Blocked, Calendar
from booking.events import Event
from booking.incidents import PaymentIncident
from booking.model import Booking, BookingStatus, Client, Location, Professional
from booking.slot import Slot, ensure_aware


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class ProfessionalRepository(Protocol):
    def add(self, professional: Professional) -> None: ...

    def get(self, professional_id: UUID) -> Professional | None: ...

    def update(self, professional: Professional) -> None:
        """Store changes; raise ConcurrentUpdate if ``professional.version`` is stale."""
        ...

    def search(self, criteria: SearchCriteria) -> list[tuple[Professional, float | None]]:
        """Professionals matching ``criteria`` with their distance in km (when near is given),
        nearest first when a point is given, else by name; one page of them."""
        ...

    def search_ids(self, criteria: SearchCriteria) -> list[tuple[UUID, float | None]]:
        """What ``search`` finds, as ids with their distance, without building the
        professionals: one read of the search box, however long the page."""
        ...

    def get_many(self, professional_ids: Sequence[UUID]) -> dict[UUID, Professional]:
        """The professionals of these ids, read at once; unknown ids are absent."""
        ...


class ClientRepository(Protocol):
    def add(self, client: Client) -> None: ...

    def get(self, client_id: UUID) -> Client | None: ...

    def get_many(self, client_ids: Collection[UUID]) -> dict[UUID, Client]:
        """The clients of these ids, read at once; unknown ids are absent."""
        ...

    def update(self, client: Client) -> None: ...


class BookingRepository(Protocol):
    def add(self, booking: Booking) -> None:
        """Store a new booking. Raise ClientNotFound if its client does not exist,
        IdempotencyKeyReused if the client has another live booking made with its key, and
        SlotUnavailable if storage itself finds an overlap; any of them may instead be raised
        by ``commit()``."""
        ...

    def get(self, booking_id: UUID) -> Booking | None: ...

    def get_by_payment_intent(self, payment_intent_id: str) -> Booking | None: ...

    def update(self, booking: Booking) -> None:
        """Store changes; raise ConcurrentUpdate if ``booking.version`` is stale, then bump it."""
        ...

    def active_blocking(self, professional_id: UUID, span: Slot) -> list[Booking]:
        """Pending and confirmed bookings whose blocked time (slot + buffer) overlaps ``span``."""
        ...

    def blocked_intervals(self, professional_id: UUID, span: Slot) -> list[Blocked]:
        """The blocked time (start, end + buffer, in UTC) of what ``active_blocking`` finds,
        without building the bookings: queries such as free slots need no more."""
        ...

    def blocked_intervals_many(
        self, professional_ids: Sequence[UUID], span: Slot
    ) -> dict[UUID, list[Blocked]]:
        """``blocked_intervals`` of several professionals at once; those with none are absent."""
        ...

    def lock_calendar(self, professional_id: UUID, around: Slot) -> Calendar | None:
        """The professional's calendar, to book ``around``: the professional with (at least)
        every active booking that could clash with a booking of ``around`` and its buffer.
        None if there is no such professional.

        It is read after making other writers of this calendar wait until this unit of work
        ends, so the rules are checked against every booking committed before ours. Storage
        still refuses an overlap on its own; the lock turns racing writers into a queue
        instead of a deadlock."""
        ...

    def lock_client_holds(self, client_id: UUID, limit: int) -> list[Booking]:
        """At most ``limit`` of the client's pending bookings (enough to tell whether a cap is
        reached, whatever the client holds), read after making other holds of this client
        wait until this unit of work ends (so the hold caps cannot be passed by racing holds).
        Called after ``lock_calendar``, never before, so the locks are always taken in the
        same order."""
        ...

    def pending_created_before(self, cutoff: datetime, limit: int) -> list[Booking]: ...

    def list(self, query: BookingQuery) -> list[Booking]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchCriteria:
    category: str | None = None
    near: Location | None = None
    radius_km: float | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingQuery:
    client_id: UUID | None = None
    professional_id: UUID | None = None
    status: BookingStatus | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        # In UTC and within the domain's range, so storage never converts an extreme instant.
        for name in ("starts_from", "starts_before"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, ensure_aware(value, name))


class PaymentIncidentRepository(Protocol):
    """Stray payments and disputes, each kept once under its reference."""

    def add(self, incident: PaymentIncident) -> None: ...

    def get(self, reference: str) -> PaymentIncident | None: ...

    def get_by_payment_intent(self, payment_intent_id: str) -> PaymentIncident | None:
        """The stray payment of this intent, if one was recorded (disputes are left out)."""
        ...

    def update(self, incident: PaymentIncident) -> None: ...

    def refunds_owed(self, limit: int) -> list[str]:
        """References of stray payments not refunded in full yet, oldest first."""
        ...

    def latest(self, limit: int) -> list[PaymentIncident]:
        """The most recently recorded incidents, newest first (for an operator)."""
        ...


class AuditTrail(Protocol):
    """Changes to write to the audit log with the unit of work's commit (and only then)."""

    def record(self, change: Change) -> None:
        """Write ``change`` with the commit, stamped with the actor, the time, the request id
        and the client address of the context it is committed in."""
        ...


class UnitOfWork(Protocol):
    """One atomic change. Used as ``with uow: ...; uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back. ``commit()`` stores the events
    recorded by the aggregates it saw together with the changes (the outbox), atomically, and
    so the audit entries: one per booking or professional it stored changed
    (``booking.audit``), and whatever was recorded in ``audit``.
    """

    professionals: ProfessionalRepository
    clients: ClientRepository
    bookings: BookingRepository
    incidents: PaymentIncidentRepository
    audit: AuditTrail

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def collect_new_events(self) -> Iterator[Event]:
        """Events recorded by aggregates seen in this unit of work, each yielded once."""
        ...


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    id: str
    client_secret: str
    status: str


class PaymentGateway(Protocol):
    """Takes money. Every call carries an idempotency key so a retry never charges twice."""

    def create_intent(
        self, *, booking_id: UUID, amount_cents: int, currency: str, idempotency_key: str
    ) -> PaymentIntent:
        """Raise PaymentUnavailable when the provider cannot be reached or refuses."""
        ...

    def cancel_intent(self, payment_intent_id: str, *, idempotency_key: str) -> None:
        """Make an unpaid intent unpayable; one already cancelled counts as done.

        Raise PaymentAlreadySucceeded if it has succeeded (a success to record even when its
        webhook never comes), PaymentUnavailable when the provider cannot be reached or refuses.
        """
        ...

    def refund(self, payment_intent_id: str, *, amount_cents: int, idempotency_key: str) -> str:
        """Return the provider's refund id."""
        ...


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What an idempotent request answered the first time, as JSON text."""

    body: str


# How long a key's record lives: a retry within a day is answered, not executed, again.
IDEMPOTENCY_TTL = timedelta(hours=24)
# How long an in-flight claim holds its key before another request may take it over. Longer
# than the slowest request can run (three payment-provider attempts of 20 s, plus the
# database), so a live request is never taken over; short enough that a crashed one frees
# its key within minutes.
IDEMPOTENCY_LEASE = timedelta(minutes=3)


class IdempotencyStore(Protocol):
    """Remembers requests by key so that a retried write is answered, not executed, again."""

    def claim(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """Claim ``key`` for a new request, or return the first request's stored response.

        Returns None when the caller now owns the key and must ``complete`` or ``release`` it.
        Raises IdempotencyKeyReused when the key was used with another fingerprint, and
        RequestInProgress while the first request still runs. A claim abandoned by a crashed
        request lapses after a short lease, so the key is never locked for good.
        """
        ...

    def complete(self, scope: str, key: str, response: StoredResponse) -> None: ...

    def release(self, scope: str, key: str) -> None:
        """Forget an owned claim (the request failed in a way a retry may fix)."""
        ...


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    body: str
    attachments: Sequence[tuple[str, str, str]] = ()  # (filename, mime type, text)


class Notifier(Protocol):
    def send(self, email: Email) -> None: ...


class JobDispatcher(Protocol):
    """Hands events to background workers (RQ in production, in-process when embedded)."""

    def dispatch(self, event: Event) -> None: ...

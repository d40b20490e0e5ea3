"""In-memory adapters for every port: for unit tests and for embedding without a database.

The store behaves like a small database: a unit of work works on a private copy and commit
checks, under a lock, what a database would (booking versions, no overlapping active booking of
one professional), so concurrent units of work fail the same way they would on PostgreSQL.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Generic, Self, TypeVar
from uuid import UUID, uuid4

from booking.audit import Change
from booking.calendar import Blocked, Calendar
from booking.errors import (
    ClientNotFound,
    ConcurrentUpdate,
    IdempotencyKeyReused,
    InvalidInput,
    PaymentAlreadySucceeded,
    PaymentUnavailable,
    RequestInProgress,
    SlotUnavailable,
)
from booking.events import Event
from booking.incidents import REFUNDED_IN_FULL, PaymentIncident
from booking.model import Booking, BookingStatus, Client, Professional
from booking.ports import (
    IDEMPOTENCY_LEASE,
    IDEMPOTENCY_TTL,
    BookingQuery,
    Clock,
    Email,
    PaymentIntent,
    SearchCriteria,
    StoredResponse,
)
from booking.slot import Slot

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine distance between two points on the Earth, in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class InMemoryStore:
    """The shared state that units of work commit to."""

    professionals: dict[UUID, Professional] = field(default_factory=dict)
    clients: dict[UUID, Client] = field(default_factory=dict)
    bookings: dict[UUID, Booking] = field(default_factory=dict)
    incidents: dict[str, PaymentIncident] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)
    audit: list[Change] = field(default_factory=list)  # what units of work recorded explicitly
    lock: threading.Lock = field(default_factory=threading.Lock)


T = TypeVar("T", Professional, Client, Booking)


class _Table(Generic[T]):
    def __init__(self, rows: dict[UUID, T]) -> None:
        self.rows = rows
        self.loaded_versions: dict[UUID, int] = {}
        self.added: set[UUID] = set()
        self.changed: set[UUID] = set()

    def add(self, row: T) -> None:
        if row.id in self.rows:
            raise InvalidInput(f"{row.id} already exists")
        self.rows[row.id] = row
        self.added.add(row.id)

    def get(self, row_id: UUID) -> T | None:
        row = self.rows.get(row_id)
        if row is not None and hasattr(row, "version"):
            self.loaded_versions.setdefault(row_id, row.version)
        return row

    def update(self, row: T) -> None:
        stored = self.rows.get(row.id)
        if stored is None:
            raise InvalidInput(f"{row.id} does not exist")
        version = getattr(row, "version", None)
        if version is not None:
            if stored is not row and stored.version != version:  # type: ignore[union-attr]
                raise ConcurrentUpdate("changed by someone else since it was read")
            self.loaded_versions.setdefault(row.id, version)
            row.version = version + 1  # type: ignore[union-attr]
        self.rows[row.id] = row
        self.changed.add(row.id)


class InMemoryProfessionals(_Table[Professional]):
    def search(self, criteria: SearchCriteria) -> list[tuple[Professional, float | None]]:
        found: list[tuple[Professional, float | None]] = []
        for pro in self.rows.values():
            if criteria.category is not None and pro.category != criteria.category:
                continue
            distance = None
            if criteria.near is not None and criteria.radius_km is not None:
                distance = great_circle_km(
                    criteria.near.lat, criteria.near.lng, pro.location.lat, pro.location.lng
                )
                if distance > criteria.radius_km:
                    continue
            found.append((pro, distance))
        if criteria.near is not None:
            found.sort(key=lambda pair: (pair[1] or 0.0, str(pair[0].id)))
        else:
            found.sort(key=lambda pair: (pair[0].name, str(pair[0].id)))
        return found[criteria.offset : criteria.offset + criteria.limit]

    def search_ids(self, criteria: SearchCriteria) -> list[tuple[UUID, float | None]]:
        return [(pro.id, distance) for pro, distance in self.search(criteria)]

    def get_many(self, professional_ids: Sequence[UUID]) -> dict[UUID, Professional]:
        found = {id_: self.get(id_) for id_ in professional_ids}
        return {id_: pro for id_, pro in found.items() if pro is not None}


class InMemoryClients(_Table[Client]):
    def get_many(self, client_ids: Collection[UUID]) -> dict[UUID, Client]:
        return {id_: self.rows[id_] for id_ in client_ids if id_ in self.rows}


class InMemoryBookings(_Table[Booking]):
    def __init__(self, rows: dict[UUID, Booking], professionals: InMemoryProfessionals) -> None:
        super().__init__(rows)
        self.professionals = professionals

    def get_by_payment_intent(self, payment_intent_id: str) -> Booking | None:
        for booking in self.rows.values():
            if booking.payment_intent_id == payment_intent_id:
                return self.get(booking.id)
        return None

    def lock_calendar(self, professional_id: UUID, around: Slot) -> Calendar | None:
        """Nothing to wait for: commit checks overlaps under the store's lock."""
        professional = self.professionals.get(professional_id)
        if professional is None:
            return None
        span = around.extended_by(professional.buffer_after_booking)
        return Calendar(professional, self.active_blocking(professional_id, span))

    def active_blocking(self, professional_id: UUID, span: Slot) -> list[Booking]:
        return [
            b
            for b in self.rows.values()
            if b.professional_id == professional_id and b.is_active and b.blocked.overlaps(span)
        ]

    def blocked_intervals(self, professional_id: UUID, span: Slot) -> list[Blocked]:
        return self.blocked_intervals_many([professional_id], span).get(professional_id, [])

    def blocked_intervals_many(
        self, professional_ids: Sequence[UUID], span: Slot
    ) -> dict[UUID, list[Blocked]]:
        wanted = set(professional_ids)
        found: dict[UUID, list[Blocked]] = {}
        for b in self.rows.values():
            if b.professional_id in wanted and b.is_active and b.blocked.overlaps(span):
                found.setdefault(b.professional_id, []).append((b.blocked.start, b.blocked.end))
        return found

    def lock_client_holds(self, client_id: UUID, limit: int) -> list[Booking]:
        """Nothing to wait for: the in-memory store is for one writer at a time."""
        return [
            b
            for b in self.rows.values()
            if b.client_id == client_id and b.status is BookingStatus.PENDING
        ][:limit]

    def pending_created_before(self, cutoff: datetime, limit: int) -> list[Booking]:
        pending = [
            b
            for b in self.rows.values()
            if b.status is BookingStatus.PENDING and b.created_at < cutoff
        ]
        return sorted(pending, key=lambda b: b.created_at)[:limit]

    def list(self, query: BookingQuery) -> list[Booking]:
        def wanted(b: Booking) -> bool:
            return (
                (query.client_id is None or b.client_id == query.client_id)
                and (query.professional_id is None or b.professional_id == query.professional_id)
                and (query.status is None or b.status is query.status)
                and (query.starts_from is None or b.start >= query.starts_from)
                and (query.starts_before is None or b.start < query.starts_before)
            )

        found = sorted(filter(wanted, self.rows.values()), key=lambda b: (b.start, str(b.id)))
        return found[query.offset : query.offset + query.limit]


class InMemoryIncidents:
    """Payment incidents by reference; what was added or changed is committed."""

    def __init__(self, rows: dict[str, PaymentIncident]) -> None:
        self.rows = rows
        self.changed: set[str] = set()

    def add(self, incident: PaymentIncident) -> None:
        if incident.reference in self.rows:
            raise InvalidInput(f"incident {incident.reference} already exists")
        self.rows[incident.reference] = incident
        self.changed.add(incident.reference)

    def get(self, reference: str) -> PaymentIncident | None:
        return self.rows.get(reference)

    def get_by_payment_intent(self, payment_intent_id: str) -> PaymentIncident | None:
        for incident in self.rows.values():
            if incident.payment_intent_id == payment_intent_id and (
                incident.kind in REFUNDED_IN_FULL
            ):
                return incident
        return None

    def update(self, incident: PaymentIncident) -> None:
        if incident.reference not in self.rows:
            raise InvalidInput(f"incident {incident.reference} does not exist")
        self.rows[incident.reference] = incident
        self.changed.add(incident.reference)

    def refunds_owed(self, limit: int) -> list[str]:
        owed = [i for i in self.rows.values() if i.refund_outstanding_cents > 0]
        return [i.reference for i in sorted(owed, key=lambda i: i.recorded_at)[:limit]]

    def latest(self, limit: int) -> list[PaymentIncident]:
        newest = sorted(self.rows.values(), key=lambda i: i.recorded_at, reverse=True)
        return newest[:limit]


class InMemoryAudit:
    """Changes recorded in a unit of work, kept by its commit. (The SQL unit of work also
    derives the changes of the bookings and professionals it stores; this one does not.)"""

    def __init__(self) -> None:
        self.recorded: list[Change] = []

    def record(self, change: Change) -> None:
        self.recorded.append(change)


class InMemoryUnitOfWork:
    """A unit of work over an :class:`InMemoryStore`; ``commits`` counts successful commits."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.commits = 0
        self._open = False

    def __enter__(self) -> Self:
        with self.store.lock:
            self.professionals = InMemoryProfessionals(copy.deepcopy(self.store.professionals))
            self.clients = InMemoryClients(copy.deepcopy(self.store.clients))
            self.bookings = InMemoryBookings(
                copy.deepcopy(self.store.bookings), self.professionals
            )
            self.incidents = InMemoryIncidents(copy.deepcopy(self.store.incidents))
        self.audit = InMemoryAudit()
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        if not self._open:
            raise RuntimeError("commit outside of the unit of work")
        with self.store.lock:
            self._check_versions()
            self._check_new_bookings()
            self._check_no_overlap()
            for table, target in (
                (self.professionals, self.store.professionals),
                (self.clients, self.store.clients),
                (self.bookings, self.store.bookings),
            ):
                for row_id in table.added | table.changed:
                    target[row_id] = copy.deepcopy(table.rows[row_id])  # type: ignore[assignment]
                    target[row_id].__dict__.get("events", []).clear()
            for reference in self.incidents.changed:
                self.store.incidents[reference] = copy.deepcopy(self.incidents.rows[reference])
            self.store.outbox.extend(self.collect_new_events())
            self.store.audit.extend(self.audit.recorded)
        self.commits += 1
        self._open = False

    def rollback(self) -> None:
        self._open = False

    def collect_new_events(self) -> Iterator[Event]:
        for booking_id in self.bookings.added | self.bookings.changed:
            booking = self.bookings.rows[booking_id]
            while booking.events:
                yield booking.events.pop(0)

    def _check_versions(self) -> None:
        for table in (self.professionals, self.bookings):
            for row_id in table.changed - table.added:
                committed = self.store.__dict__[_name(table)].get(row_id)
                if committed is not None and committed.version != table.loaded_versions[row_id]:
                    raise ConcurrentUpdate("changed by someone else since it was read")

    def _check_new_bookings(self) -> None:
        # What the foreign key and the unique (client, idempotency key) index refuse.
        for booking_id in self.bookings.added:
            mine = self.bookings.rows[booking_id]
            if mine.client_id not in self.store.clients and mine.client_id not in self.clients.rows:
                raise ClientNotFound("no such client")
            if mine.idempotency_key is None or not mine.is_active:
                continue
            for other in self.store.bookings.values():
                if (
                    other.id != mine.id
                    and other.client_id == mine.client_id
                    and other.idempotency_key == mine.idempotency_key
                    and other.is_active
                ):
                    raise IdempotencyKeyReused("a booking was already made with this key")

    def _check_no_overlap(self) -> None:
        # What the database's exclusion constraint (PostgreSQL) or trigger (SQLite) enforces.
        for booking_id in self.bookings.added | self.bookings.changed:
            mine = self.bookings.rows[booking_id]
            if not mine.is_active:
                continue
            for other in self.store.bookings.values():
                if (
                    other.id != mine.id
                    and other.professional_id == mine.professional_id
                    and other.is_active
                    and other.blocked.overlaps(mine.blocked)
                ):
                    raise SlotUnavailable("the professional is already booked at that time")


def _name(table: object) -> str:
    return "professionals" if isinstance(table, InMemoryProfessionals) else "bookings"


@dataclass
class _Claim:
    fingerprint: str
    claimed_at: datetime
    response: StoredResponse | None = None


class InMemoryIdempotencyStore:
    """Idempotency records in a dict, with the same lease and expiry rules as the Redis one."""

    def __init__(
        self,
        clock: Clock,
        *,
        ttl: timedelta = IDEMPOTENCY_TTL,
        lease: timedelta = IDEMPOTENCY_LEASE,
    ) -> None:
        self.clock = clock
        self.ttl = ttl
        self.lease = lease
        self._claims: dict[tuple[str, str], _Claim] = {}
        self._lock = threading.Lock()

    def claim(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        now = self.clock.now()
        with self._lock:
            existing = self._claims.get((scope, key))
            if existing is not None and now - existing.claimed_at >= self.ttl:
                existing = None
            if existing is None or (
                existing.response is None and now - existing.claimed_at >= self.lease
            ):
                self._claims[(scope, key)] = _Claim(fingerprint, now)
                return None
            if existing.fingerprint != fingerprint:
                raise IdempotencyKeyReused("this idempotency key was used for another request")
            if existing.response is None:
                raise RequestInProgress("a request with this idempotency key is still running")
            return existing.response

    def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        with self._lock:
            claim = self._claims.get((scope, key))
            if claim is not None:
                claim.response = response

    def release(self, scope: str, key: str) -> None:
        with self._lock:
            self._claims.pop((scope, key), None)


@dataclass
class RecordedIntent:
    id: str
    booking_id: UUID
    amount_cents: int
    currency: str
    status: str = "requires_payment_method"
    refunded_cents: int = 0
    amount_received_cents: int = 0
    currency_received: str = ""


class InMemoryPayments:
    """A payment gateway that keeps intents in memory and honours idempotency keys.

    ``unavailable = True`` makes every call fail as a provider outage would.
    """

    def __init__(self) -> None:
        self.intents: dict[str, RecordedIntent] = {}
        self.refunds: list[tuple[str, int]] = []
        self.unavailable = False
        self._by_key: dict[str, object] = {}

    def create_intent(
        self, *, booking_id: UUID, amount_cents: int, currency: str, idempotency_key: str
    ) -> PaymentIntent:
        self._check_up()
        intent = self._by_key.get(idempotency_key)
        if not isinstance(intent, RecordedIntent):
            intent = RecordedIntent(f"pi_{uuid4().hex}", booking_id, amount_cents, currency)
            self.intents[intent.id] = intent
            self._by_key[idempotency_key] = intent
        return PaymentIntent(intent.id, f"{intent.id}_secret", intent.status)

    def cancel_intent(self, payment_intent_id: str, *, idempotency_key: str) -> None:
        self._check_up()
        intent = self.intents[payment_intent_id]
        if intent.status == "succeeded":
            raise PaymentAlreadySucceeded(
                f"{payment_intent_id} has succeeded; refund it",
                amount_received_cents=intent.amount_received_cents,
                currency=intent.currency_received,
            )
        intent.status = "canceled"

    def refund(self, payment_intent_id: str, *, amount_cents: int, idempotency_key: str) -> str:
        self._check_up()
        if idempotency_key in self._by_key:
            return str(self._by_key[idempotency_key])
        intent = self.intents[payment_intent_id]
        # What it took in; tests that record a success without ``succeed`` took the amount.
        paid = intent.amount_received_cents if intent.status == "succeeded" else intent.amount_cents
        if intent.refunded_cents + amount_cents > paid:
            raise PaymentUnavailable("refund exceeds the amount paid")
        intent.refunded_cents += amount_cents
        refund_id = f"re_{uuid4().hex}"
        self.refunds.append((payment_intent_id, amount_cents))
        self._by_key[idempotency_key] = refund_id
        return refund_id

    def succeed(
        self, payment_intent_id: str, *, amount_cents: int | None = None,
        currency: str | None = None,
    ) -> None:
        """The client paid (what the provider's success webhook reports): the intent's amount
        in its currency, unless told otherwise (a payment the app did not ask for)."""
        intent = self.intents[payment_intent_id]
        intent.status = "succeeded"
        intent.amount_received_cents = intent.amount_cents if amount_cents is None else amount_cents
        intent.currency_received = intent.currency if currency is None else currency

    def add_foreign_intent(self, booking_id: UUID, amount_cents: int, currency: str) -> str:
        """An intent someone else opened on the same account, naming ``booking_id``."""
        intent = RecordedIntent(f"pi_{uuid4().hex}", booking_id, amount_cents, currency)
        self.intents[intent.id] = intent
        return intent.id

    def _check_up(self) -> None:
        if self.unavailable:
            raise PaymentUnavailable("the payment provider is unreachable")


class ListNotifier:
    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> None:
        self.sent.append(email)


class ListDispatcher:
    def __init__(self) -> None:
        self.dispatched: list[Event] = []

    def dispatch(self, event: Event) -> None:
        self.dispatched.append(event)

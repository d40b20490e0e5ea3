"""Repositories over one SQLAlchemy ``Connection``, with Core statements.

They implement the ports in ``booking.ports`` and behave like the in-memory ones: ``update``
compares and bumps ``version`` (optimistic locking), and a storage-level overlap surfaces as
``SlotUnavailable``. Transactions belong to the unit of work, never to a repository.
"""

from __future__ import annotations

import builtins
import copy
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Executable,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)

from adapters.memory import EARTH_RADIUS_KM, great_circle_km
from adapters.sql import rows
from adapters.sql.direct import driver_of, postgres_sql, run
from adapters.sql.errors import storage_errors
from adapters.sql.professional_cache import ProfessionalCache
from adapters.sql.tables import availabilities, bookings, clients, professionals, time_off
from booking.audit import Change, booking_change, professional_changes
from booking.calendar import Blocked, Calendar
from booking.errors import ClientNotFound, ConcurrentUpdate, InvalidInput
from booking.model import (
    ACTIVE_STATUSES,
    AvailabilityWindow,
    Booking,
    BookingStatus,
    Client,
    Location,
    Professional,
    TimeOff,
)
from booking.ports import BookingQuery, SearchCriteria
from booking.slot import Slot

_ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)
_STATUS_LITERALS = {status: literal_column(f"'{status.value}'") for status in BookingStatus}
_PENDING = _STATUS_LITERALS[BookingStatus.PENDING]
_PROFESSIONAL_COLUMNS = [
    column for column in professionals.c if column.name not in ("created_at", "updated_at")
]
_LOCATED = (  # what a search by distance reads of every professional in the box
    professionals.c.id, professionals.c.version,
    professionals.c.location_lat, professionals.c.location_lng,
)
# The booking writes are built once and take their values at execution: the hot path then
# skips building and coercing a statement per call.
_INSERT_BOOKING = insert(bookings)
_UPDATE_BOOKING = (
    update(bookings)
    .where(
        bookings.c.id == bindparam("expected_id"),
        bookings.c.version == bindparam("expected_version"),
    )
    .values(version=bookings.c.version + literal_column("1"))
)
# PostgreSQL's hold, straight through psycopg: the professional's row read with the lock taken
# in the same statement (hashtextextended gives the 64-bit advisory lock key of a text, so ids
# need no mapping table), then the bookings that could clash, in a statement that starts once
# the lock is held and so sees every booking committed before it.
_LOCK = func.pg_advisory_xact_lock(func.hashtextextended(bindparam("key"), literal_column("0")))
_PG_LOCKED_PROFESSIONAL = postgres_sql(
    select(*_PROFESSIONAL_COLUMNS, _LOCK.label("locked")).where(
        professionals.c.id == bindparam("professional_id")
    )
)
_ACTIVE_BLOCKING = select(bookings).where(
    bookings.c.professional_id == bindparam("professional_id"),
    bookings.c.status != literal_column(f"'{BookingStatus.CANCELLED.value}'"),
    bookings.c.start_time < bindparam("end"),
    bookings.c.blocked_until > bindparam("start"),
)
# On PostgreSQL the same predicate as a range overlap, which the no-overlap constraint's GiST
# index (professional, blocked range; active bookings only) answers by looking at the bookings
# near the span only. Bounded by start alone, a btree reads every earlier booking of the
# professional: two years of history to find one month's (docs/performance.md).
_BLOCKED_RANGE = func.tstzrange(
    bookings.c.start_time, bookings.c.blocked_until, literal_column("'[)'")
)
_SPAN_RANGE = func.tstzrange(bindparam("start"), bindparam("end"), literal_column("'[)'"))
_PG_ACTIVE_BLOCKING = postgres_sql(
    select(bookings).where(
        bookings.c.professional_id == bindparam("professional_id"),
        bookings.c.status != literal_column(f"'{BookingStatus.CANCELLED.value}'"),
        _BLOCKED_RANGE.op("&&")(_SPAN_RANGE),
    )
)
# blocked_intervals_many's query: the same lookup once per professional (GiST takes no
# "= ANY(array)", so the ids are unnested and each is looked up on its own).
_PG_BLOCKED_INTERVALS = (
    "SELECT wanted.id AS professional_id, found.start_time, found.blocked_until"
    " FROM unnest(%(ids)s::uuid[]) AS wanted(id) CROSS JOIN LATERAL ("
    "SELECT bookings.start_time, bookings.blocked_until FROM bookings"
    " WHERE bookings.professional_id = wanted.id AND bookings.status <> 'cancelled'"
    " AND tstzrange(bookings.start_time, bookings.blocked_until, '[)')"
    " && tstzrange(%(start)s, %(end)s, '[)')) AS found"
)
# A client's pending bookings, read for the hold caps (after the client's lock on PostgreSQL).
_PG_LOCK = postgres_sql(select(_LOCK))
_CLIENT_HOLDS = (
    select(bookings)
    .where(
        bookings.c.client_id == bindparam("client_id"),
        bookings.c.status == literal_column(f"'{BookingStatus.PENDING.value}'"),
    )
    .limit(bindparam("limit", type_=Integer))
)
_PG_CLIENT_HOLDS = postgres_sql(_CLIENT_HOLDS)
# The hold's insert and the payment's optimistic update, on every booking.
_PG_INSERT_BOOKING = postgres_sql(_INSERT_BOOKING.inline(), [c.name for c in bookings.c])
_PG_UPDATE_BOOKING = postgres_sql(
    _UPDATE_BOOKING, [c.name for c in bookings.c if c.name not in ("id", "version")]
)


class _Repository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _execute(
        self, statement: Executable, parameters: rows.Values | Sequence[rows.Values] | None = None
    ) -> CursorResult[Any]:
        with storage_errors():
            return self._connection.execute(statement, parameters)

    def _rows(self, statement: Executable, pg_sql: str, params: rows.Values) -> list[rows.Row]:
        """The rows of ``statement``; on PostgreSQL run as ``pg_sql``, its compiled form."""
        if driver_of(self._connection) is not None:
            return run(self._connection, pg_sql, params)[0]
        return list(self._execute(statement, params).mappings().all())

    def _changed(self, statement: Executable, pg_sql: str, values: rows.Values) -> int:
        """How many rows ``statement`` wrote; on PostgreSQL run as ``pg_sql``."""
        if driver_of(self._connection) is not None:
            return run(self._connection, pg_sql, values)[1]
        return self._execute(statement, values).rowcount

    def _stale_or_missing(self, table_id: ColumnElement[Any], row_id: UUID) -> Exception:
        found = self._execute(select(table_id).where(table_id == row_id)).first()
        if found is None:
            return InvalidInput(f"{row_id} does not exist")
        return ConcurrentUpdate("changed by someone else since it was read")


class SqlProfessionals(_Repository):
    def __init__(self, connection: Connection, cache: ProfessionalCache | None = None) -> None:
        super().__init__(connection)
        self._cache = cache
        self._written: set[UUID] = set()  # never cached: this transaction may roll back
        self._ranked: dict[UUID, int] = {}  # versions read by search_ids
        # For the audit log: each professional as first read here, and as last stored (None
        # before: added). Professionals are replaced, never changed in place, once read.
        self._loaded: dict[UUID, Professional] = {}
        self._stored: dict[UUID, tuple[Professional | None, Professional]] = {}
        # What this unit of work wrote, for the webhooks: id -> (created here, the profile).
        self.written_profiles: dict[UUID, tuple[bool, Professional]] = {}

    def add(self, professional: Professional) -> None:
        self._written.add(professional.id)
        self._stored[professional.id] = (None, professional)
        self.written_profiles[professional.id] = (True, professional)
        now = datetime.now(UTC)
        values = rows.professional_values(professional)
        self._execute(insert(professionals).values(**values, created_at=now, updated_at=now))
        self._insert_children(professional)

    def get(self, professional_id: UUID) -> Professional | None:
        row = self._execute(
            select(professionals).where(professionals.c.id == professional_id)
        ).mappings().first()
        if row is None:
            return None
        found = self.from_row(row)
        self._loaded.setdefault(professional_id, found)
        return found

    def from_row(self, row: rows.Row) -> Professional:
        """The professional of a ``professionals`` row read in this unit of work."""
        return self._from_rows([row])[0]

    def update(self, professional: Professional) -> None:
        first = self._stored.get(professional.id)
        before = first[0] if first else self._loaded.get(professional.id)
        if first is None and before is None:
            before = self.get(professional.id)  # as it is before this write
        self._stored[professional.id] = (before, professional)
        self._written.add(professional.id)
        created = self.written_profiles.get(professional.id, (False, professional))[0]
        self.written_profiles[professional.id] = (created, professional)
        values = rows.professional_values(professional)
        del values["version"]
        result = self._execute(
            update(professionals)
            .where(
                professionals.c.id == professional.id,
                professionals.c.version == professional.version,
            )
            .values(**values, version=professionals.c.version + 1, updated_at=datetime.now(UTC))
        )
        if result.rowcount == 0:
            raise self._stale_or_missing(professionals.c.id, professional.id)
        for table in (availabilities, time_off):
            self._execute(delete(table).where(table.c.professional_id == professional.id))
        self._insert_children(professional)
        professional.version += 1

    def audit_changes(self) -> list[Change]:
        """What the professionals stored here changed, part by part (``booking.audit``)."""
        return [
            change
            for before, after in self._stored.values()
            for change in professional_changes(before, after)
        ]

    def search(self, criteria: SearchCriteria) -> list[tuple[Professional, float | None]]:
        if criteria.near is not None and criteria.radius_km is not None:
            page = self._ranked_near(criteria, criteria.near, criteria.radius_km)
            loaded = self._by_version([(id_, version) for _, id_, version in page])
            return [
                (loaded[id_], distance) for distance, id_, _ in page if id_ in loaded
            ]  # one deleted since the box was read is left out
        query = self._ordered(select(professionals), criteria)
        found = self._execute(query.offset(criteria.offset).limit(criteria.limit)).mappings()
        return [(pro, None) for pro in self._from_rows(list(found))]

    def search_ids(self, criteria: SearchCriteria) -> list[tuple[UUID, float | None]]:
        if criteria.near is not None and criteria.radius_km is not None:
            page = self._ranked_near(criteria, criteria.near, criteria.radius_km)
            self._ranked.update((id_, version) for _, id_, version in page)
            return [(id_, distance) for distance, id_, _ in page]
        query = self._ordered(select(professionals.c.id, professionals.c.version), criteria)
        found = self._execute(query.offset(criteria.offset).limit(criteria.limit)).all()
        self._ranked.update((id_, version) for id_, version in found)
        return [(id_, None) for id_, _ in found]

    def get_many(self, professional_ids: Sequence[UUID]) -> dict[UUID, Professional]:
        # Versions seen by search_ids let the cache answer without reading the rows again;
        # version 0 is never stored, so an id not seen there is read.
        return self._by_version([(id_, self._ranked.get(id_, 0)) for id_ in professional_ids])

    def _ordered(self, query: Select[Any], criteria: SearchCriteria) -> Select[Any]:
        if criteria.category is not None:
            query = query.where(professionals.c.category == criteria.category)
        if criteria.near is not None:  # a point without a radius: no distance, id order
            return query.order_by(professionals.c.id)
        return query.order_by(self._name_order(), professionals.c.id)

    def _ranked_near(
        self, criteria: SearchCriteria, near: Location, radius_km: float
    ) -> list[tuple[float, UUID, int]]:
        """One page of (distance, id, version) within the radius, nearest first.

        The bounding box narrows the candidates through the (category, lat, lng) index; the
        exact great-circle distance then decides, as the in-memory repository does. The box
        holds hundreds in a city, so it reads four columns, and only the page is built."""
        box = select(*_LOCATED).where(_bounding_box(near, radius_km))
        if criteria.category is not None:
            box = box.where(professionals.c.category == criteria.category)
        in_range: list[tuple[float, UUID, int]] = []
        for id_, version, lat, lng in self._execute(box).all():  # fetched at once
            distance = great_circle_km(near.lat, near.lng, lat, lng)
            if distance <= radius_km:
                in_range.append((distance, id_, version))
        in_range.sort(key=itemgetter(0, 1))  # ties by id: UUIDs order as their text does
        return in_range[criteria.offset : criteria.offset + criteria.limit]

    def _by_version(self, keys: list[tuple[UUID, int]]) -> dict[UUID, Professional]:
        """The professionals of these ids, from memory where their version is known, else
        from their rows, all read at once (a newer version, if one was written meanwhile)."""
        found: dict[UUID, Professional] = {}
        for key in keys:
            cached = self._cache.get(key) if self._cache is not None else None
            if cached is not None:
                found[key[0]] = cached
        missing = [id_ for id_, _ in keys if id_ not in found]
        if missing:
            query = select(*_PROFESSIONAL_COLUMNS).where(professionals.c.id.in_(missing))
            for professional in self._from_rows(list(self._execute(query).mappings().all())):
                found[professional.id] = professional
        return found

    def _name_order(self) -> ColumnElement[Any]:
        # Sort by code point as Python does; PostgreSQL's default collation is locale-aware.
        if self._connection.dialect.name == "postgresql":
            return professionals.c.name.collate("C")
        return professionals.c.name

    def _from_rows(self, found: list[rows.Row]) -> list[Professional]:
        """Professionals from their rows: from memory where the version is known, else built,
        with the windows and days off of all of them loaded at once."""
        known: dict[UUID, Professional] = {}
        if self._cache is not None:
            for row in found:
                cached = self._cache.get((row["id"], row["version"]))
                if cached is not None:
                    known[row["id"]] = cached
        missing = [row for row in found if row["id"] not in known]
        if missing:
            children = self._load_children([row["id"] for row in missing])
            for row in missing:
                built = rows.professional_from(row, *children[row["id"]])
                known[row["id"]] = built
                if self._cache is not None and row["id"] not in self._written:
                    self._cache.put(built)
        return [known[row["id"]] for row in found]

    def _load_children(
        self, ids: list[UUID]
    ) -> dict[UUID, tuple[tuple[AvailabilityWindow, ...], tuple[TimeOff, ...]]]:
        windows: defaultdict[UUID, list[AvailabilityWindow]] = defaultdict(list)
        for row in self._children(availabilities, ids):
            windows[row["professional_id"]].append(rows.window_from(row))
        days_off: defaultdict[UUID, list[TimeOff]] = defaultdict(list)
        for row in self._children(time_off, ids):
            days_off[row["professional_id"]].append(rows.time_off_from(row))
        return {id_: (tuple(windows[id_]), tuple(days_off[id_])) for id_ in ids}

    def _children(self, table: Table, ids: list[UUID]) -> Iterable[rows.Row]:
        return self._execute(
            select(table)
            .where(table.c.professional_id.in_(ids))
            .order_by(table.c.professional_id, table.c.position)
        ).mappings().all()

    def _insert_children(self, professional: Professional) -> None:
        for table, values in (
            (availabilities, rows.availability_values(professional)),
            (time_off, rows.time_off_values(professional)),
        ):
            if values:
                self._execute(insert(table), values)


class SqlClients(_Repository):
    def add(self, client: Client) -> None:
        now = datetime.now(UTC)
        self._execute(
            insert(clients).values(**rows.client_values(client), created_at=now, updated_at=now)
        )

    def get(self, client_id: UUID) -> Client | None:
        row = self._execute(select(clients).where(clients.c.id == client_id)).mappings().first()
        return None if row is None else rows.client_from(row)

    def get_many(self, client_ids: Collection[UUID]) -> dict[UUID, Client]:
        if not client_ids:
            return {}
        found = self._execute(select(clients).where(clients.c.id.in_(list(client_ids))))
        return {row["id"]: rows.client_from(row) for row in found.mappings()}

    def update(self, client: Client) -> None:
        result = self._execute(
            update(clients)
            .where(clients.c.id == client.id)
            .values(**rows.client_values(client), updated_at=datetime.now(UTC))
        )
        if result.rowcount == 0:
            raise InvalidInput(f"{client.id} does not exist")


class SqlBookings(_Repository):
    def __init__(self, connection: Connection, professionals: SqlProfessionals) -> None:
        super().__init__(connection)
        self._professionals = professionals
        self._seen: dict[int, Booking] = {}
        # For the audit log: a copy of each booking as read here (None: added here).
        self._as_read: dict[int, Booking | None] = {}

    @property
    def seen(self) -> list[Booking]:
        """Bookings added, read by id or updated here: the unit of work takes their events."""
        return list(self._seen.values())

    def add(self, booking: Booking) -> None:
        values = rows.booking_values(booking) | {"version": booking.version}
        try:
            self._changed(_INSERT_BOOKING, _PG_INSERT_BOOKING, values)
        except InvalidInput:  # a key to a missing row; PostgreSQL names the client's itself
            if self._client_is_missing(booking.client_id):
                raise ClientNotFound("no such client") from None
            raise
        self._as_read[id(booking)] = None
        self._see(booking)

    def get(self, booking_id: UUID) -> Booking | None:
        return self._first(bookings.c.id == booking_id)

    def get_by_payment_intent(self, payment_intent_id: str) -> Booking | None:
        return self._first(bookings.c.payment_intent_id == payment_intent_id)

    def update(self, booking: Booking) -> None:
        values = rows.booking_values(booking)
        values |= {"expected_id": values.pop("id"), "expected_version": booking.version}
        if self._changed(_UPDATE_BOOKING, _PG_UPDATE_BOOKING, values) == 0:
            raise self._stale_or_missing(bookings.c.id, booking.id)
        booking.version += 1
        self._see(booking)

    def lock_calendar(self, professional_id: UUID, around: Slot) -> Calendar | None:
        # SQLite's BEGIN IMMEDIATE already serialises every writer. On PostgreSQL, overlapping
        # inserts would otherwise wait on each other's uncommitted rows in the exclusion index
        # and deadlock (found only after deadlock_timeout); a transaction-scoped advisory lock
        # per professional queues them instead, and other professionals are not held up.
        professional = self._locked_professional(professional_id)
        if professional is None:
            return None
        span = around.extended_by(professional.buffer_after_booking)
        return Calendar(professional, self.active_blocking(professional_id, span))

    def _locked_professional(self, professional_id: UUID) -> Professional | None:
        if driver_of(self._connection) is None:
            return self._professionals.get(professional_id)
        params = {"key": f"hourbook:calendar:{professional_id}", "professional_id": professional_id}
        found = run(self._connection, _PG_LOCKED_PROFESSIONAL, params)[0]
        # No row, no lock: there is nothing to book. The bookings are read by the next
        # statement, which starts once the lock is held.
        return self._professionals.from_row(found[0]) if found else None

    def active_blocking(self, professional_id: UUID, span: Slot) -> list[Booking]:
        params = {"professional_id": professional_id, "start": span.start, "end": span.end}
        found = self._rows(_ACTIVE_BLOCKING, _PG_ACTIVE_BLOCKING, params)
        return [rows.booking_from(row) for row in found]

    def blocked_intervals(self, professional_id: UUID, span: Slot) -> builtins.list[Blocked]:
        return self.blocked_intervals_many([professional_id], span).get(professional_id, [])

    def blocked_intervals_many(
        self, professional_ids: Sequence[UUID], span: Slot
    ) -> dict[UUID, builtins.list[Blocked]]:
        # The same predicate as active_blocking, two columns instead of whole bookings.
        found: dict[UUID, builtins.list[Blocked]] = {}
        if not professional_ids:
            return found
        if driver_of(self._connection) is not None:
            # One array parameter: the same statement text for any number of ids, so psycopg
            # parses and prepares it once, where an IN list is a new statement per length.
            params = {"ids": list(professional_ids), "start": span.start, "end": span.end}
            for row in run(self._connection, _PG_BLOCKED_INTERVALS, params)[0]:
                found.setdefault(row["professional_id"], []).append(
                    (row["start_time"], row["blocked_until"])
                )
            return found
        query = select(
            bookings.c.professional_id, bookings.c.start_time, bookings.c.blocked_until
        ).where(
            bookings.c.professional_id.in_(professional_ids),
            bookings.c.status.in_(_ACTIVE),
            bookings.c.start_time < span.end,
            bookings.c.blocked_until > span.start,
        )
        for row in self._execute(query).all():
            found.setdefault(row.professional_id, []).append((row.start_time, row.blocked_until))
        return found

    def lock_client_holds(self, client_id: UUID, limit: int) -> builtins.list[Booking]:
        # SQLite's BEGIN IMMEDIATE already serialises every writer. On PostgreSQL a
        # transaction-scoped advisory lock per client queues the holds of one client; it is
        # always taken after the calendar's, so two holds never wait on each other in a cycle.
        params = {"key": f"hourbook:client:{client_id}", "client_id": client_id, "limit": limit}
        if driver_of(self._connection) is None:
            found = self._execute(
                _CLIENT_HOLDS, {"client_id": client_id, "limit": limit}
            ).mappings().all()
        else:
            run(self._connection, _PG_LOCK, {"key": params["key"]})
            found = run(self._connection, _PG_CLIENT_HOLDS, params)[0]
        return [rows.booking_from(row) for row in found]

    def pending_created_before(self, cutoff: datetime, limit: int) -> list[Booking]:
        return self._all(
            select(bookings)
            .where(
                bookings.c.status == _PENDING,  # a literal: it names the partial index
                bookings.c.created_at < cutoff,
            )
            .order_by(bookings.c.created_at)
            .limit(limit)
        )

    def list(self, query: BookingQuery) -> list[Booking]:
        statement = select(bookings)
        if query.client_id is not None:
            statement = statement.where(bookings.c.client_id == query.client_id)
        if query.professional_id is not None:
            statement = statement.where(bookings.c.professional_id == query.professional_id)
        if query.status is not None:
            # A literal, not a parameter: a plan made for any status could not use the partial
            # index of that status (the reminder job lists the confirmed ones by start).
            statement = statement.where(bookings.c.status == _STATUS_LITERALS[query.status])
        if query.starts_from is not None:
            statement = statement.where(bookings.c.start_time >= query.starts_from)
        if query.starts_before is not None:
            statement = statement.where(bookings.c.start_time < query.starts_before)
        return self._all(
            statement.order_by(bookings.c.start_time, bookings.c.id)
            .offset(query.offset)
            .limit(query.limit)
        )

    def _first(self, condition: ColumnElement[bool]) -> Booking | None:
        row = self._execute(select(bookings).where(condition)).mappings().first()
        if row is None:
            return None
        booking = rows.booking_from(row)
        self._as_read[id(booking)] = copy.copy(booking)
        self._see(booking)
        return booking

    def _all(self, query: Select[Any]) -> builtins.list[Booking]:
        return [rows.booking_from(row) for row in self._execute(query).mappings()]

    def _see(self, booking: Booking) -> None:
        self._seen[id(booking)] = booking

    def audit_changes(self) -> builtins.list[Change]:
        """What each booking read or added here changed (``booking.audit``)."""
        found = []
        for key, booking in self._seen.items():
            if key not in self._as_read:
                continue  # updated without being read here: nothing to compare with
            change = booking_change(self._as_read[key], booking)
            if change is not None:
                found.append(change)
        return found

    def _client_is_missing(self, client_id: UUID) -> bool:
        if driver_of(self._connection) is not None:
            return False  # its transaction is aborted; errors.translate read the key's name
        return self._execute(select(clients.c.id).where(clients.c.id == client_id)).first() is None


def _bounding_box(near: Location, radius_km: float) -> ColumnElement[bool]:
    """A lat/lng box holding every point within ``radius_km`` of ``near`` (and a few more)."""
    angle = radius_km / EARTH_RADIUS_KM  # the radius as an angle at the Earth's centre
    margin = 1e-6  # degrees: the box may be a little too big, never too small
    if angle >= math.pi / 2:
        return true()
    dlat = math.degrees(angle) + margin
    lat = professionals.c.location_lat.between(near.lat - dlat, near.lat + dlat)
    cos_lat = math.cos(math.radians(near.lat))
    if near.lat + dlat >= 90 or near.lat - dlat <= -90 or math.sin(angle) >= cos_lat:
        return lat  # the circle reaches a pole: every longitude
    dlng = math.degrees(math.asin(math.sin(angle) / cos_lat)) + margin
    west, east = near.lng - dlng, near.lng + dlng
    lng = professionals.c.location_lng
    if west < -180:  # the box crosses the antimeridian: two longitude ranges
        return and_(lat, or_(lng >= west + 360, lng <= east))
    if east > 180:
        return and_(lat, or_(lng <= east - 360, lng >= west))
    return and_(lat, lng.between(west, east))

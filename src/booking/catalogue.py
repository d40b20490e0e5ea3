"""Catalogue use cases: professionals, clients, availability, free slots and search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from uuid import UUID

from booking import audit
from booking.availability import overlapping_windows
from booking.calendar import Calendar
from booking.errors import (
    ClientNotFound,
    ConcurrentUpdate,
    InvalidInput,
    OverlappingWindows,
    ProfessionalNotFound,
    RuleViolation,
)
from booking.model import AvailabilityWindow, Client, Professional, TimeOff
from booking.ports import Clock, SearchCriteria, UnitOfWork
from booking.pricing import price_cents
from booking.slot import Slot

MAX_SLOT_SEARCH = timedelta(days=62)
MAX_SLOTS = 1000  # in one answer of free_slots; the rest from its next_start on
MAX_PAGE = 100
MAX_RADIUS_KM = 500.0  # a search near a point: what a person searches, not the globe
MAX_FREE_RESULTS = 200  # offset + limit of a search with a free-time filter
MAX_CANDIDATES = 1000  # professionals a search with a free-time filter examines at most
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EDITABLE = frozenset(
    {
        "name",
        "email",
        "category",
        "hourly_rate_cents",
        "time_zone",
        "location",
        "currency",
        "travel_mode",
        "travel_fee_cents",
        "policy",
    }
)


@dataclass(frozen=True, slots=True)
class FreeSlots:
    slots: list[Slot]
    price_cents: int  # of each slot: they all have the requested duration
    currency: str
    next_start: datetime | None = None  # where the slots left out begin, if any were


@dataclass(frozen=True, slots=True, kw_only=True)
class FreeTime:
    """Search filter: only professionals with at least one free slot of ``duration`` in ``span``."""

    span: Slot
    duration: timedelta


def register_professional(professional: Professional, *, uow: UnitOfWork) -> Professional:
    _require_disjoint(professional.availability)
    with uow:
        uow.professionals.add(professional)
        uow.commit()
    return professional


def get_professional(professional_id: UUID, *, uow: UnitOfWork) -> Professional:
    with uow:
        return _professional(uow, professional_id)


def update_professional(
    professional_id: UUID,
    changes: Mapping[str, object],
    *,
    uow: UnitOfWork,
    expected_version: int | None = None,
) -> Professional:
    """Apply profile ``changes``; with ``expected_version``, refuse to overwrite newer edits."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise InvalidInput(f"cannot change: {', '.join(sorted(unknown))}")
    with uow:
        current = _professional(uow, professional_id)
        if expected_version is not None and current.version != expected_version:
            raise ConcurrentUpdate("the professional was changed by someone else")
        updated = replace(current, **changes)  # type: ignore[arg-type]
        uow.professionals.update(updated)
        uow.commit()
    return updated


def set_availability(
    professional_id: UUID, windows: tuple[AvailabilityWindow, ...], *, uow: UnitOfWork
) -> Professional:
    """Replace the weekly windows. Existing bookings stand even if they now fall outside.

    Windows on the same day must not overlap (OverlappingWindows names them); windows that
    touch, like 09:00-12:00 and 12:00-17:00, are fine.
    """
    _require_disjoint(windows)
    with uow:
        updated = replace(_professional(uow, professional_id), availability=windows)
        uow.professionals.update(updated)
        uow.commit()
    return updated


def set_time_off(
    professional_id: UUID, time_off: tuple[TimeOff, ...], *, uow: UnitOfWork
) -> Professional:
    """Replace the days off. Existing bookings on them stand; cancel them explicitly."""
    with uow:
        updated = replace(_professional(uow, professional_id), time_off=time_off)
        uow.professionals.update(updated)
        uow.commit()
    return updated


def free_slots(
    professional_id: UUID, span: Slot, duration: timedelta, *, uow: UnitOfWork, clock: Clock
) -> FreeSlots:
    """The first ``MAX_SLOTS`` bookable slots of one professional in ``span``, with their
    price; ``next_start`` says where the rest begin, to ask for them from there."""
    if span.duration > MAX_SLOT_SEARCH:
        raise InvalidInput("search at most 62 days of slots at once")
    with uow:
        professional = _professional(uow, professional_id)
        blocked = uow.bookings.blocked_intervals(professional.id, _needed(span, [professional]))
    calendar = Calendar.from_blocked(professional, blocked)
    slots = calendar.free_slots(span, duration, clock.now(), limit=MAX_SLOTS + 1)
    return FreeSlots(
        slots=slots[:MAX_SLOTS],
        price_cents=price_cents(professional, duration),
        currency=professional.currency,
        next_start=slots[MAX_SLOTS].start if len(slots) > MAX_SLOTS else None,
    )


def search_professionals(
    criteria: SearchCriteria, *, uow: UnitOfWork, clock: Clock, free: FreeTime | None = None
) -> list[tuple[Professional, float | None]]:
    """One page of professionals by category and distance, optionally only those with free time.

    With a free-time filter, the search box is read once, for the ids of the first
    ``MAX_CANDIDATES`` candidates in search order; they are then checked in that order, in
    batches (each batch's professionals and blocked time read at once), until
    ``offset + limit`` of them have free time. The offset counts only those, so pages stay
    consistent with the filter, and ``offset + limit`` is at most ``MAX_FREE_RESULTS``. A
    page can come out short when the candidates run out before it is full.
    """
    if not 0 < criteria.limit <= MAX_PAGE or criteria.offset < 0:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE} and offset not negative")
    if (criteria.near is None) != (criteria.radius_km is None):
        raise InvalidInput("give both a point and a radius, or neither")
    if criteria.radius_km is not None and not 0 < criteria.radius_km <= MAX_RADIUS_KM:
        raise InvalidInput(f"radius_km must be above 0 and at most {MAX_RADIUS_KM}")
    if free is None:
        with uow:
            return uow.professionals.search(criteria)
    if free.span.duration > MAX_SLOT_SEARCH:
        raise InvalidInput("search at most 62 days of free time at once")
    wanted = criteria.offset + criteria.limit
    if wanted > MAX_FREE_RESULTS:
        raise InvalidInput(
            f"with a free-time filter, offset + limit is at most {MAX_FREE_RESULTS}"
        )
    now = clock.now()
    matches: list[tuple[Professional, float | None]] = []
    with uow:
        ranked = uow.professionals.search_ids(replace(criteria, offset=0, limit=MAX_CANDIDATES))
        # A first batch three times what is wanted is enough unless most candidates are busy.
        first, size = 0, min(3 * wanted, MAX_PAGE)
        while first < len(ranked) and len(matches) < wanted:
            batch = ranked[first : first + size]
            matches += _with_free_time(uow, batch, free, now, wanted - len(matches))
            first, size = first + size, MAX_PAGE
    return matches[criteria.offset : wanted]


def register_client(client: Client, *, uow: UnitOfWork) -> Client:
    with uow:
        uow.clients.add(client)
        uow.commit()
    return client


def get_client(client_id: UUID, *, uow: UnitOfWork) -> Client:
    with uow:
        client = uow.clients.get(client_id)
    if client is None:
        raise ClientNotFound("no such client")
    return client


def update_client(client_id: UUID, changes: Mapping[str, object], *, uow: UnitOfWork) -> Client:
    unknown = set(changes) - {"name", "email", "phone", "time_zone"}
    if unknown:
        raise InvalidInput(f"cannot change: {', '.join(sorted(unknown))}")
    with uow:
        client = uow.clients.get(client_id)
        if client is None:
            raise ClientNotFound("no such client")
        updated = replace(client, **changes)  # type: ignore[arg-type]
        uow.clients.update(updated)
        _audit_client(uow, client, updated)
        uow.commit()
    return updated


def change_client_email(client_id: UUID, current: str, new: str, *, uow: UnitOfWork) -> bool:
    """Give the client the verified address ``new``, unless theirs is no longer ``current``."""
    with uow:
        client = uow.clients.get(client_id)
        if client is None or client.email != current:
            return False
        updated = replace(client, email=new)
        uow.clients.update(updated)
        _audit_client(uow, client, updated)
        uow.commit()
    return True


def _audit_client(uow: UnitOfWork, before: Client, after: Client) -> None:
    then, now = audit.client_fields(before), audit.client_fields(after)
    if then != now:
        uow.audit.record(audit.changed(audit.Entity.CLIENT, after.id, "changed", then, now))


def change_professional_email(
    professional_id: UUID, current: str, new: str, *, uow: UnitOfWork
) -> bool:
    """Give the profile the verified address ``new``, unless its is no longer ``current``."""
    with uow:
        professional = uow.professionals.get(professional_id)
        if professional is None or professional.email != current:
            return False
        uow.professionals.update(replace(professional, email=new))
        uow.commit()
    return True


def _with_free_time(
    uow: UnitOfWork,
    candidates: list[tuple[UUID, float | None]],
    free: FreeTime,
    now: datetime,
    wanted: int,
) -> list[tuple[Professional, float | None]]:
    """The first ``wanted`` of ``candidates``, in order, with a free slot in ``free``."""
    loaded = uow.professionals.get_many([id_ for id_, _ in candidates])
    present = [(loaded[id_], distance) for id_, distance in candidates if id_ in loaded]
    if not present:
        return []
    professionals = [professional for professional, _ in present]
    blocked = uow.bookings.blocked_intervals_many(
        [professional.id for professional in professionals], _needed(free.span, professionals)
    )
    found: list[tuple[Professional, float | None]] = []
    for professional, distance in present:
        if len(found) == wanted:
            break
        calendar = Calendar.from_blocked(professional, blocked.get(professional.id, []))
        try:
            if calendar.has_free_slot(free.span, free.duration, now):
                found.append((professional, distance))
        except RuleViolation:  # a duration this professional does not offer
            continue
    return found


def _require_disjoint(windows: tuple[AvailabilityWindow, ...]) -> None:
    clashes = overlapping_windows(windows)
    if clashes:
        named = "; ".join(f"{_named(a)} and {_named(b)}" for a, b in clashes[:5])
        more = f" (and {len(clashes) - 5} more)" if len(clashes) > 5 else ""
        raise OverlappingWindows(f"availability windows overlap: {named}{more}")


def _named(window: AvailabilityWindow) -> str:
    end = "24:00" if window.end == time(0) else window.end.isoformat("minutes")
    return f"{_DAYS[window.day_of_week]} {window.start.isoformat('minutes')}-{end}"


def _needed(span: Slot, professionals: list[Professional]) -> Slot:
    """The time whose bookings can clash with a slot in ``span``: a slot at its very end
    keeps the buffer after it free too. More is harmless: those bookings clash with nothing."""
    return span.extended_by(max(pro.buffer_after_booking for pro in professionals))


def _professional(uow: UnitOfWork, professional_id: UUID) -> Professional:
    professional = uow.professionals.get(professional_id)
    if professional is None:
        raise ProfessionalNotFound("no such professional")
    return professional

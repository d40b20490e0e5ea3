"""Find: category, a place (a seeded city or the browser's location) and a radius, and the days
wanted; the professionals free in those days, nearest first, each with their next free hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from flask import render_template, request

from booking import catalogue
from booking.catalogue import FreeTime
from booking.errors import InvalidInput, RuleViolation
from booking.model import Location, Professional
from booking.ports import SearchCriteria
from booking.slot import Slot
from entrypoints.api.context import container
from entrypoints.web import text
from entrypoints.web.blueprint import web
from entrypoints.web.places import CATEGORIES, CITIES
from entrypoints.web.zones import visitor_zone

RADII_KM = (5, 10, 25, 50, 100)
DAYS = (1, 3, 7, 14)
SEARCH_DURATION = timedelta(hours=1)
RESULTS = 10
HERE = "here"


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    location: Location


@dataclass(frozen=True, slots=True)
class Result:
    id: UUID
    name: str
    distance_km: float | None
    price: tuple[int, str]
    next_free: datetime | None


@web.get("/", endpoint="find")
def find() -> str:
    wanted = _Search.from_args()
    results = None
    if wanted.category is not None and wanted.place is not None:
        results = _results(wanted, wanted.place)
    zone = visitor_zone("UTC")
    return render_template(
        "web/find.html",
        categories=sorted(CATEGORIES),
        cities=[city.name for city in CITIES],
        radii=RADII_KM,
        days_options=DAYS,
        wanted=wanted,
        results=results,
        zone=zone,
        here=HERE,
    )


@dataclass(frozen=True, slots=True)
class _Search:
    category: str | None
    place_name: str
    place: Place | None
    radius_km: int
    days: int
    place_error: str | None

    @classmethod
    def from_args(cls) -> _Search:
        args = request.args
        category = args.get("category") if args.get("category") in CATEGORIES else None
        radius = _choice(args.get("radius"), RADII_KM, 10)
        days = _choice(args.get("days"), DAYS, 7)
        place_name = args.get("place", CITIES[0].name)
        place = _place(place_name, args.get("lat"), args.get("lng"))
        error = text.sentence("bad_place") if category is not None and place is None else None
        return cls(category, place_name, place, radius, days, error)


def _choice(raw: str | None, allowed: tuple[int, ...], default: int) -> int:
    try:
        value = int(raw or "")
    except ValueError:
        return default
    return value if value in allowed else default


def _place(name: str, lat: str | None, lng: str | None) -> Place | None:
    if name == HERE:
        try:
            return Place(text.PLACE_MY_LOCATION, Location(float(lat or ""), float(lng or "")))
        except (ValueError, TypeError, InvalidInput):  # no coordinates, or out of range
            return None
    for city in CITIES:
        if city.name == name:
            return Place(city.name, Location(city.lat, city.lng))
    return None


def _results(wanted: _Search, place: Place) -> list[Result]:
    app = container()
    now = app.clock.now()
    span = Slot(now, now + timedelta(days=wanted.days))
    criteria = SearchCriteria(category=wanted.category, near=place.location,
                              radius_km=wanted.radius_km, limit=RESULTS)  # fmt: skip
    found = catalogue.search_professionals(
        criteria, uow=app.reader(), clock=app.clock,
        free=FreeTime(span=span, duration=SEARCH_DURATION),
    )  # fmt: skip
    return [_result(pro, distance, span) for pro, distance in found]


def _result(pro: Professional, distance: float | None, span: Slot) -> Result:
    app = container()
    try:
        free = catalogue.free_slots(pro.id, span, SEARCH_DURATION, uow=app.reader(),
                                    clock=app.clock)  # fmt: skip
    except RuleViolation:  # an hour is not a length they take
        first = None
    else:
        first = free.slots[0].start if free.slots else None
    rounded = round(distance, 1) if distance is not None else None
    return Result(pro.id, pro.name, rounded, (pro.hourly_rate_cents, pro.currency), first)

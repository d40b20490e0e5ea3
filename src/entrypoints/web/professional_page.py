"""A professional's page: profile, price and travel rule, and a week of free slots for a chosen
length, each in the visitor's own time zone (the professional's beside it when it differs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from flask import render_template, request, url_for

from booking import catalogue
from booking.errors import RuleViolation
from booking.model import BookingPolicy, Professional
from booking.slot import Slot
from entrypoints.api.context import container
from entrypoints.web.blueprint import web
from entrypoints.web.zones import browser_zone, visitor_zone

MAX_DURATION_CHOICES = 8


@dataclass(frozen=True, slots=True)
class Day:
    date: date
    slots: list[Slot]


@web.get("/pros/<uuid:professional_id>", endpoint="professional")
def professional_page(professional_id: UUID) -> str:
    app = container()
    pro = catalogue.get_professional(professional_id, uow=app.reader())
    zone = visitor_zone(pro.time_zone)
    zone_from_browser = browser_zone() is not None
    durations = duration_choices(pro.policy)
    minutes = _int_arg("duration", durations[0])
    if minutes not in durations:
        minutes = durations[0]
    monday = _week_start(request.args.get("week"), zone, app.clock.now())
    start = datetime.combine(monday, time(0), zone)
    span = Slot(start, datetime.combine(monday + timedelta(days=7), time(0), zone))
    try:
        free = catalogue.free_slots(pro.id, span, timedelta(minutes=minutes), uow=app.reader(),
                                    clock=app.clock)  # fmt: skip
        slots, price = free.slots, free.price_cents
    except RuleViolation:
        slots, price = [], 0
    days = [Day(monday + timedelta(days=n), []) for n in range(7)]
    for slot in slots:
        days[(slot.start.astimezone(zone).date() - monday).days].slots.append(slot)
    return render_template(
        "web/professional.html",
        pro=pro,
        zone=zone,
        pro_zone=pro.zone,
        zones_differ=zone.key != pro.time_zone,
        zone_from_browser=zone_from_browser,
        durations=durations,
        minutes=minutes,
        price=price,
        days=days,
        monday=monday,
        week_link=lambda week: _week_link(pro, minutes, zone, week),
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        book_link=lambda slot: _book_link(pro, slot, minutes),
    )


def duration_choices(policy: BookingPolicy) -> list[int]:
    """Lengths a visitor may pick, in minutes: the granularity's multiples within the policy."""
    step = int(policy.granularity.total_seconds()) // 60
    low = int(policy.minimum_duration.total_seconds()) // 60
    high = int(policy.maximum_duration.total_seconds()) // 60
    first = -(-low // step) * step
    return list(range(first, high + 1, step))[:MAX_DURATION_CHOICES] or [first]


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return default


def _week_start(raw: str | None, zone: ZoneInfo, now: datetime) -> date:
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        day = now.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def _week_link(pro: Professional, minutes: int, zone: ZoneInfo, week: date) -> str:
    return url_for("web.professional", professional_id=pro.id, duration=minutes,
                   week=week.isoformat(), tz=zone.key)  # fmt: skip


def _book_link(pro: Professional, slot: Slot, minutes: int) -> str:
    return url_for("web.book", pro=pro.id, start=_utc(slot.start), duration=minutes)


def _utc(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")

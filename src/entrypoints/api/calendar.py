"""A professional's calendar: weekly availability, days off, and the free slots they leave."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from flask import request
from flask.views import MethodView
from marshmallow import RAISE

from booking import catalogue
from booking.model import AvailabilityWindow, Professional, TimeOff
from entrypoints.accounts import Role
from entrypoints.api.blueprints import Blueprint
from entrypoints.api.context import container
from entrypoints.api.idempotency import idempotent
from entrypoints.api.presenters import Body, slot_body
from entrypoints.api.professionals import require_editor
from entrypoints.api.reads import reader
from entrypoints.api.schemas.professionals import (
    AvailabilitySchema,
    FreeSlotsSchema,
    SlotArgsSchema,
    SlotQuery,
    TimeOffListSchema,
)
from entrypoints.api.security import current_principal, protected

blp = Blueprint(
    "calendar", __name__, url_prefix="/professionals", description="Availability and slots"
)


@blp.route("/<uuid:professional_id>/availability")
class Availability(MethodView):
    @blp.response(200, AvailabilitySchema)
    def get(self, professional_id: UUID) -> Body:
        """The weekly windows, in the professional's own time zone."""
        return _availability(
            catalogue.get_professional(professional_id, uow=reader())
        )

    @protected(Role.PROFESSIONAL, Role.ADMIN)
    @idempotent()
    @blp.arguments(AvailabilitySchema)
    @blp.response(200, AvailabilitySchema)
    def put(
        self, body: dict[str, list[AvailabilityWindow]], professional_id: UUID
    ) -> Body:
        """Replace the weekly windows; existing bookings stand.

        Each window ends after it starts, or at "00:00" (midnight at the end of the day); a
        window that crosses midnight is written as two.
        """
        require_editor(current_principal(), professional_id)
        pro = catalogue.set_availability(
            professional_id, tuple(body["windows"]), uow=container().uow()
        )
        return _availability(pro)


@blp.route("/<uuid:professional_id>/time-off")
class DaysOff(MethodView):
    @protected(Role.PROFESSIONAL, Role.ADMIN)
    @blp.response(200, TimeOffListSchema)
    def get(self, professional_id: UUID) -> Body:
        """The days off (private: the reasons are the professional's business)."""
        require_editor(current_principal(), professional_id)
        pro = catalogue.get_professional(professional_id, uow=reader())
        return {"days_off": list(pro.time_off)}

    @protected(Role.PROFESSIONAL, Role.ADMIN)
    @idempotent()
    @blp.arguments(TimeOffListSchema)
    @blp.response(200, TimeOffListSchema)
    def put(self, body: dict[str, list[TimeOff]], professional_id: UUID) -> Body:
        """Replace the days off; bookings already made on them stand (cancel them if needed).

        Each period's ``last_day`` is on or after its ``first_day``.
        """
        require_editor(current_principal(), professional_id)
        days_off = tuple(body["days_off"])
        pro = catalogue.set_time_off(professional_id, days_off, uow=container().uow())
        return {"days_off": list(pro.time_off)}


@blp.route("/<uuid:professional_id>/slots")
class FreeSlots(MethodView):
    @blp.arguments(SlotArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, FreeSlotsSchema)
    def get(self, query: SlotQuery, professional_id: UUID) -> Body:
        """Bookable slots of ``duration_minutes`` between ``from`` and ``to``, with their price.

        ``to`` is after ``from`` and at most 62 days later. ``duration_minutes`` is a multiple of
        the professional's granularity, within their minimum and maximum duration (their
        ``policy``); other durations answer 422 (``misaligned``, ``duration_out_of_range``).

        At most 1,000 slots in one answer, in time order, each once; when there are more,
        ``next`` is the URL of the next page (the same query from the first slot left out),
        else null.

        With ``time_zone`` (an IANA name; an unknown one answers 422), each slot also carries
        ``local_start`` and ``local_end``: its times on that zone's clock, with the offset in
        force at each (so the two may differ across a DST change).
        """
        app = container()
        free = catalogue.free_slots(
            professional_id, query.span, query.duration, uow=reader(), clock=app.clock
        )
        minutes = int(query.duration.total_seconds()) // 60
        following = None
        if free.next_start is not None:
            args: dict[str, str | int] = {
                "from": free.next_start.isoformat(),
                "to": query.span.end.isoformat(),
                "duration_minutes": minutes,
            }
            if query.zone is not None:
                args["time_zone"] = query.zone.key
            following = f"{request.path}?{urlencode(args)}"
        body = {
            "professional_id": professional_id,
            "duration_minutes": minutes,
            "price_cents": free.price_cents,
            "currency": free.currency,
            "slots": [slot_body(s, query.zone) for s in free.slots],
            "next": following,
        }
        if query.zone is not None:
            body["time_zone"] = query.zone.key
        return body


def _availability(pro: Professional) -> Body:
    return {"time_zone": pro.time_zone, "windows": list(pro.availability)}

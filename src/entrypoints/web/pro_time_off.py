"""Time off (``/pro/time-off``): whole days nobody can book, added and removed one period at a
time, through ``catalogue.set_time_off`` as ``PUT /professionals/{id}/time-off`` does."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from booking import catalogue
from booking.model import Professional, TimeOff
from entrypoints.api.context import container
from entrypoints.web import text
from entrypoints.web.blueprint import web
from entrypoints.web.pro_account import profile_required
from entrypoints.web.pro_forms import MAX_DAYS_OFF, read_time_off

Page = str | tuple[str, int] | Response


@web.route("/pro/time-off", methods=["GET", "POST"], endpoint="pro_time_off")
@profile_required
def time_off(pro: Professional) -> Page:
    if request.method == "GET":
        return _page(pro, {}, {})
    period, errors = read_time_off(request.form)
    if period is not None and len(pro.time_off) >= MAX_DAYS_OFF:
        errors["first_day"] = text.sentence("too_many_days_off")
    if period is None or errors:
        return _page(pro, request.form, errors), 400
    periods = tuple(sorted({*pro.time_off, period}, key=_order))
    catalogue.set_time_off(pro.id, periods, uow=container().uow())
    flash(text.TIME_OFF_ADDED)
    return redirect(url_for("web.pro_time_off"), code=303)


@web.post("/pro/time-off/remove", endpoint="pro_time_off_remove")
@profile_required
def remove(pro: Professional) -> Response:
    first, last = request.form.get("first_day", ""), request.form.get("last_day", "")
    kept = tuple(p for p in pro.time_off
                 if (p.first_day.isoformat(), p.last_day.isoformat()) != (first, last))  # fmt: skip
    if len(kept) != len(pro.time_off):
        catalogue.set_time_off(pro.id, kept, uow=container().uow())
        flash(text.TIME_OFF_REMOVED)
    return redirect(url_for("web.pro_time_off"), code=303)


def day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _order(period: TimeOff) -> tuple[date, date]:
    return period.first_day, period.last_day


def _page(pro: Professional, form: object, errors: dict[str, str]) -> str:
    return render_template(
        "web/pro/time_off.html",
        pro=pro,
        periods=sorted(pro.time_off, key=_order),
        form=form,
        errors=errors,
        day_text=day_text,
    )

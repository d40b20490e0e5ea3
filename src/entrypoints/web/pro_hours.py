"""The weekly hours editor (``/pro/hours``): several windows a day, in plain forms that work
without JavaScript, and copying one day's saved hours to other days (``/pro/hours/copy``).

Saving replaces the weekly windows through ``catalogue.set_availability``, as ``PUT
/professionals/{id}/availability`` does; windows the API marked inactive are kept as they were.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from booking import catalogue
from booking.errors import InvalidInput
from booking.model import Professional
from entrypoints.api.context import container
from entrypoints.web import text
from entrypoints.web.blueprint import web
from entrypoints.web.pro_account import profile_required
from entrypoints.web.pro_forms import DAYS, WeekForm, copied_week

Page = str | tuple[str, int] | Response
_ADD = "add-"


@web.route("/pro/hours", methods=["GET", "POST"], endpoint="pro_hours")
@profile_required
def hours(pro: Professional) -> Page:
    if request.method == "GET":
        return _hours_page(pro, WeekForm.of(pro.availability).with_blank_rows())
    week = WeekForm.posted(request.form)
    action = request.form.get("action", "save")
    if action.startswith(_ADD):  # "add a window on ...": the same rows and one more, unsaved
        day = _day(action.removeprefix(_ADD))
        return _hours_page(pro, week.with_blank_rows(extra_on=day), focus_day=day)
    windows = week.windows()
    if not week.errors:
        inactive = tuple(w for w in pro.availability if not w.is_active)
        try:
            catalogue.set_availability(pro.id, windows + inactive, uow=container().uow())
        except InvalidInput as error:
            week.errors["all"] = text.sentence(error.code)
        else:
            flash(text.HOURS_SAVED)
            return redirect(url_for("web.pro_hours"), code=303)
    return _hours_page(pro, week.with_blank_rows(), failed=True), 400


@web.post("/pro/hours/copy", endpoint="pro_hours_copy")
@profile_required
def copy_day(pro: Professional) -> Page:
    source = _day(request.form.get("from_day"))
    targets = {day for day in (_day(v) for v in request.form.getlist("to_day")) if day is not None}
    targets.discard(source)  # type: ignore[arg-type]
    if source is None or not targets:
        week = WeekForm.of(pro.availability).with_blank_rows()
        return _hours_page(pro, week, copy_error=text.sentence("copy_days"), copy_from=source), 400
    windows = copied_week(pro.availability, source, targets)
    catalogue.set_availability(pro.id, windows, uow=container().uow())
    names = ", ".join(text.DAY_NAMES[day] for day in sorted(targets))
    flash(text.COPIED % {"day": text.DAY_NAMES[source], "days": names})
    return redirect(url_for("web.pro_hours"), code=303)


def _hours_page(pro: Professional, week: WeekForm, *, focus_day: int | None = None,
                failed: bool = False, copy_error: str | None = None,
                copy_from: int | None = None) -> str:  # fmt: skip
    return render_template(
        "web/pro/hours.html",
        pro=pro,
        week=week,
        days=DAYS,
        focus_day=focus_day,
        failed=failed,
        copy_error=copy_error,
        copy_from=copy_from if copy_from is not None else 0,
    )


def _day(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw in {"0", "1", "2", "3", "4", "5", "6"} else None

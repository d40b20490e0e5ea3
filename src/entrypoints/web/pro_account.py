"""A professional's account and profile: sign up (``/pro/signup``), fill in or change the
profile (``/pro/profile``), and ``/pro``, which leads to the page to use next.

The account is the API's (``accounts.register`` with the professional role) and the profile is
created and changed by the catalogue's use cases, as ``POST``/``PATCH /professionals`` do; the
profile's id is the account's, as in the API.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from booking import catalogue
from booking.errors import ConcurrentUpdate, InvalidInput
from booking.model import SUPPORTED_CURRENCIES, Professional
from entrypoints import accounts
from entrypoints.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Role
from entrypoints.api.context import container
from entrypoints.passwords import HashingBusy
from entrypoints.places import CATEGORIES, CITIES
from entrypoints.web import text
from entrypoints.web.blueprint import web
from entrypoints.web.pro_forms import cents_text, read_profile, time_zones
from entrypoints.web.sessions import professional_required, sign_in, signed_in
from entrypoints.web.zones import visitor_zone

P = ParamSpec("P")
R = TypeVar("R")
Page = str | tuple[str, int] | Response


def my_profile() -> Professional | None:
    """The signed-in professional's profile, or None before they filled it in."""
    uow = container().reader()
    with uow:
        return uow.professionals.get(signed_in().user_id)


def profile_required(view: Callable[Concatenate[Professional, P], R]) -> Callable[P, R | Response]:
    """A professional's page that needs their profile: sent to fill it in when there is none."""

    @professional_required
    @wraps(view)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        pro = my_profile()
        if pro is None:
            flash(text.PRO_NEEDS_PROFILE)
            return redirect(url_for("web.pro_profile"), code=303)
        return view(pro, *args, **kwargs)

    return checked


@web.get("/pro", endpoint="pro_home")
@professional_required
def pro_home() -> Response:
    target = "web.pro_bookings" if my_profile() is not None else "web.pro_profile"
    return redirect(url_for(target), code=303)


@web.route("/pro/signup", methods=["GET", "POST"], endpoint="pro_sign_up")
def sign_up() -> Page:
    if request.method == "GET":
        return render_template("web/pro/sign_up.html", errors={}, email="")
    email = request.form.get("email", "").strip()[:320]
    password = request.form.get("password", "")
    errors = {}
    if "@" not in email or "." not in email.rpartition("@")[2]:
        errors["email"] = text.sentence("email_invalid")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        errors["password"] = text.sentence("password_length")
    if not errors:
        try:
            user = accounts.register(container(), role=Role.PROFESSIONAL, email=email,
                                     password=password)  # fmt: skip
            # A taken address registers nothing: its owner's own password signs them in.
            user = user or accounts.authenticate(container(), email, password)
        except InvalidInput:
            user = None
        except HashingBusy:
            user, errors["email"] = None, text.sentence("storage_unavailable")
        if user is not None and user.role == Role.PROFESSIONAL:
            sign_in(user)
            return redirect(url_for("web.pro_profile"), code=303)
        errors.setdefault("email", text.sentence("register_failed"))
    return render_template("web/pro/sign_up.html", errors=errors, email=email), 400


@web.route("/pro/profile", methods=["GET", "POST"], endpoint="pro_profile")
@professional_required
def profile() -> Page:
    pro = my_profile()
    if request.method == "GET":
        return _profile_page(_form_of(pro), {}, pro)
    values, errors = read_profile(request.form)
    if errors:
        return _profile_page(request.form, errors, pro), 400
    app = container()
    if pro is None:
        email = signed_in().email
        created = Professional(id=signed_in().user_id, email=email, **values)
        catalogue.register_professional(created, uow=app.uow())
        app.users.link_professional(signed_in().user_id, created.id)
        flash(text.PRO_PROFILE_CREATED)
        return redirect(url_for("web.pro_hours"), code=303)
    version = _int(request.form.get("version"))
    try:
        catalogue.update_professional(pro.id, values, uow=app.uow(), expected_version=version)
    except ConcurrentUpdate:
        current = my_profile()
        page = _profile_page(_form_of(current), {"name": text.sentence("profile_changed")},
                             current)  # fmt: skip
        return page, 409
    flash(text.PRO_PROFILE_SAVED)
    return redirect(url_for("web.pro_profile"), code=303)


def _profile_page(form: object, errors: dict[str, str], pro: Professional | None) -> str:
    return render_template(
        "web/pro/profile.html",
        form=form,
        errors=errors,
        pro=pro,
        categories=[(slug, slug.replace("-", " ").capitalize()) for slug in sorted(CATEGORIES)],
        currencies=[(code, code.upper()) for code in sorted(SUPPORTED_CURRENCIES)],
        zones=[(zone, zone.replace("_", " ")) for zone in time_zones()],
        cities=[(city.name, city.name) for city in CITIES],
    )


def _form_of(pro: Professional | None) -> dict[str, str]:
    """The form's values: the profile's, or good first guesses for a new one."""
    if pro is None:
        zone = visitor_zone("Europe/Berlin").key
        city = next((c for c in CITIES if c.time_zone == zone), CITIES[0])
        return {"time_zone": zone if zone in time_zones() else city.time_zone,
                "city": city.name, "currency": city.currency, "travel_mode": "local"}  # fmt: skip
    city = next((c for c in CITIES if (c.lat, c.lng) == (pro.location.lat, pro.location.lng)),
                None)  # fmt: skip
    exact = city is None
    nearest = city or CITIES[0]
    return {
        "name": pro.name,
        "category": pro.category,
        "rate": cents_text(pro.hourly_rate_cents),
        "currency": pro.currency,
        "time_zone": pro.time_zone,
        "city": nearest.name,
        "lat": str(pro.location.lat) if exact else "",
        "lng": str(pro.location.lng) if exact else "",
        "travel_mode": pro.travel_mode.value,
        "travel_fee": cents_text(pro.travel_fee_cents) if pro.travel_fee_cents else "",
        "version": str(pro.version),
    }


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 18 else None

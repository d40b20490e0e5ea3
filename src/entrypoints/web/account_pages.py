"""Sign in, register and sign out: the API's accounts (``entrypoints.accounts``), in a cookie.

Both forms keep ``next`` (the page that sent the person here, such as a chosen slot), so
signing in or registering never loses what they were doing.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from booking.errors import InvalidInput
from entrypoints import accounts
from entrypoints.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, Role
from entrypoints.api.context import container
from entrypoints.api.login_throttle import client_address
from entrypoints.api.login_throttle import throttle as login_throttle
from entrypoints.passwords import HashingBusy
from entrypoints.web import text
from entrypoints.web.blueprint import web
from entrypoints.web.sessions import current_visitor, safe_next, sign_in, sign_out

Page = str | tuple[str, int] | Response


@web.route("/signin", methods=["GET", "POST"], endpoint="sign_in")
def sign_in_page() -> Page:
    after = safe_next(request.values.get("next"), "")
    if request.method == "GET":
        return render_template("web/sign_in.html", next=after, errors={}, email="")
    email = request.form.get("email", "").strip()[:320]
    password = request.form.get("password", "")[:MAX_PASSWORD_LENGTH + 1]
    address, throttle = client_address(), login_throttle()
    try:
        throttle.check(address, email)  # the API's back-off after wrong passwords, shared
    except TooManyRequests as error:
        errors = {"password": text.sentence("too_many_attempts")}
        page = render_template("web/sign_in.html", next=after, errors=errors, email=email)
        return Response(page, 429, {"Retry-After": str(error.retry_after or 60)})
    try:
        user = accounts.authenticate(container(), email, password) if email else None
    except HashingBusy:
        user, busy = None, True
    else:
        busy = False
    if user is None:
        if not busy:
            throttle.failed(address, email)
        code = "storage_unavailable" if busy else "invalid_credentials"
        errors = {"password": text.sentence(code)}
        page = render_template("web/sign_in.html", next=after, errors=errors, email=email)
        return page, 400
    throttle.succeeded(address, email)
    sign_in(user)
    return redirect(after or home_of(Role(user.role)), code=303)


def home_of(role: Role) -> str:
    """Where a person lands after signing in with no page to go back to."""
    return url_for("web.pro_home") if role is Role.PROFESSIONAL else url_for("web.my_bookings")


@web.route("/register", methods=["GET", "POST"])
def register() -> Page:
    after = safe_next(request.values.get("next"), url_for("web.find"))
    if request.method == "GET":
        return render_template("web/register.html", next=after, errors={}, form={})
    form = {name: request.form.get(name, "").strip()[:320] for name in ("name", "email")}
    password = request.form.get("password", "")
    errors = _registration_errors(form, password)
    if not errors:
        try:
            user = accounts.register(container(), role=Role.CLIENT, email=form["email"],
                                     password=password, name=form["name"])  # fmt: skip
            # An address with an account already registers nothing: signing in with the
            # password given works only if it is that account's own.
            user = user or accounts.authenticate(container(), form["email"], password)
        except InvalidInput:
            user = None
        except HashingBusy:
            errors["email"] = text.sentence("storage_unavailable")
            user = None
        if user is not None:
            sign_in(user)
            return redirect(after, code=303)
        errors.setdefault("email", text.sentence("register_failed"))
    page = render_template("web/register.html", next=after, errors=errors, form=form)
    return page, 400


def _registration_errors(form: dict[str, str], password: str) -> dict[str, str]:
    errors = {}
    if not form["name"]:
        errors["name"] = text.sentence("name_required")
    if "@" not in form["email"] or "." not in form["email"].rpartition("@")[2]:
        errors["email"] = text.sentence("email_invalid")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        errors["password"] = text.sentence("password_length")
    return errors


@web.post("/signout")
def sign_out_page() -> Response:
    sign_out()
    return redirect(url_for("web.find", signed_out="1"), code=303)


@web.get("/wrong-role")
def wrong_role() -> str:
    visitor = current_visitor()
    role = visitor.role.value if visitor is not None else "visitor"
    wanted = text.PROFESSIONALS_ONLY if request.args.get("need") == "professional" else (
        text.CLIENTS_ONLY
    )
    return render_template("web/message.html", message=wanted % {"role": role})

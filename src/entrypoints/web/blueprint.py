"""The web pages' blueprint and what every page shares: the CSRF check, the security headers,
the template context (strings, CSRF token, the signed-in person) and the HTML error pages."""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template
from werkzeug.exceptions import HTTPException

from booking.errors import BookingError, NotFound
from entrypoints.web import csp, csrf, text
from entrypoints.web.format import date_long, day_heading, money, time_of_day
from entrypoints.web.sessions import current_visitor

web = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/web/static",
)


@web.before_request
def _check_csrf() -> None:
    csrf.check()


@web.after_request
def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = csp.policy(stripe=g.get("stripe_page", False))
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


@web.context_processor
def _page_context() -> dict[str, object]:
    return {
        "t": text,
        "csrf_token": csrf.token,
        "visitor": current_visitor(),
        "money": money,
        "time_of_day": time_of_day,
        "day_heading": day_heading,
        "date_long": date_long,
    }


@web.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    message = {400: text.BAD_REQUEST, 404: text.NOT_FOUND,
               429: text.TOO_MANY_REQUESTS}.get(code, text.GENERIC_ERROR)  # fmt: skip
    return render_template("web/error.html", message=message, code=code), code


@web.errorhandler(NotFound)
def _not_found(_error: NotFound) -> tuple[str, int]:
    return render_template("web/error.html", message=text.NOT_FOUND, code=404), 404


@web.errorhandler(BookingError)
def _domain_error(error: BookingError) -> tuple[str, int]:
    return render_template("web/error.html", message=text.sentence(error.code), code=409), 409

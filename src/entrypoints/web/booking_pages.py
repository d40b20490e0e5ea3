"""Book and pay: the chosen slot, the hold (made once per form: its Idempotency-Key is a hidden
field, so a double click or a reload books once) and the payment.

In the embedded default the card form is ours and the payment simulator pays the intent, which
delivers the signed webhook that confirms the booking, as Stripe does. With Stripe configured,
the payment page runs Stripe's Payment Element (Stripe.js, from Stripe) instead.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from flask import g, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from adapters.payments.simulator import SimulatedPayments
from booking import catalogue, services
from booking.commands import CreateBooking
from booking.errors import BookingError, PaymentUnavailable, RequestInProgress
from booking.model import Booking, BookingStatus, CancellationReason, Professional
from booking.pricing import price_cents
from booking.receipts import BookingReceipt
from entrypoints import accounts
from entrypoints.api import outcomes
from entrypoints.api.context import container
from entrypoints.web import text
from entrypoints.web.blueprint import web
from entrypoints.web.ownership import own_booking
from entrypoints.web.sessions import client_required, current_visitor, signed_in
from entrypoints.web.zones import visitor_zone

# Stripe's test card numbers, as the simulator's test cards.
TEST_CARDS = {"4242424242424242": "pm_card_visa", "4000000000000002": "pm_card_chargeCustomerFail"}
_EXPIRY = re.compile(r"(0[1-9]|1[0-2])\s*/\s*([0-9]{2})")
_CVC = re.compile(r"[0-9]{3,4}")
_IN_PROGRESS_WAITS, _IN_PROGRESS_PAUSE = 40, 0.25  # at most ten seconds

Page = str | tuple[str, int] | Response


@dataclass(frozen=True, slots=True)
class Choice:
    """The slot a visitor picked on a professional's page."""

    pro: Professional
    start: datetime
    duration: timedelta

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    @property
    def minutes(self) -> int:
        return int(self.duration.total_seconds()) // 60


@web.route("/book", methods=["GET", "POST"], endpoint="book")
def book() -> Page:
    choice = _choice()
    if request.method == "GET" or current_visitor() is None:
        return _book_page(choice, key=str(uuid4()))
    return _hold(choice)


def _book_page(choice: Choice, *, key: str, error: str | None = None, status: int = 200) -> Page:
    zone = visitor_zone(choice.pro.time_zone)
    page = render_template(
        "web/book.html",
        choice=choice,
        zone=zone,
        price=price_cents(choice.pro, choice.duration),
        key=key,
        error=error,
        hold_minutes=container().settings.hold_minutes,
        here=request.full_path.rstrip("?") if request.method == "GET" else _book_url(choice),
    )
    return page, status


@client_required
def _hold(choice: Choice) -> Page:
    app, visitor = container(), signed_in()
    key = request.form.get("idempotency_key", "")
    if not 0 < len(key) <= 255:
        raise BadRequest("idempotency_key")
    if not accounts.may_book(app, visitor.user_id):
        return _book_page(choice, key=key, error=text.sentence("email_unverified"), status=403)
    cmd = CreateBooking(client_id=visitor.user_id, professional_id=choice.pro.id,
                        start=choice.start, duration=choice.duration,
                        idempotency_key=key)  # fmt: skip
    try:
        receipt = _create_or_wait(cmd)
    except PaymentUnavailable:
        outcomes.booking_cancelled(CancellationReason.PAYMENT_ERROR)
        return _book_page(choice, key=str(uuid4()), error=text.sentence("payment_unavailable"),
                          status=503)  # fmt: skip
    except BookingError as error:
        outcomes.booking_refused(error)
        return _book_page(choice, key=str(uuid4()), error=text.sentence(error.code), status=409)
    outcomes.booking_answered(receipt)
    return redirect(url_for("web.pay", booking_id=receipt.booking_id), code=303)


def _create_or_wait(cmd: CreateBooking) -> BookingReceipt:
    """Hold, or wait for the same form's earlier submission to finish and answer as it did: a
    double click sends the form twice at once, and both should land on the same booking."""
    app = container()
    for _ in range(_IN_PROGRESS_WAITS):
        try:
            return services.create_booking(
                cmd, uow=app.uow(), payments=app.payments, idempotency=app.idempotency,
                clock=app.clock, limits=app.settings.hold_limits,
            )  # fmt: skip
        except RequestInProgress:
            time.sleep(_IN_PROGRESS_PAUSE)
    raise RequestInProgress("the same booking is still being made")


def _choice() -> Choice:
    values = request.values
    try:
        pro_id = UUID(values.get("pro", ""))
        start = datetime.fromisoformat(values.get("start", "").replace("Z", "+00:00"))
        minutes = int(values.get("duration", ""))
    except ValueError:
        raise BadRequest("slot") from None
    if start.tzinfo is None or not 0 < minutes <= 24 * 60:
        raise BadRequest("slot")
    pro = catalogue.get_professional(pro_id, uow=container().reader())
    return Choice(pro, start, timedelta(minutes=minutes))


def _book_url(choice: Choice) -> str:
    start = choice.start.strftime("%Y-%m-%dT%H:%M:%S%z")
    return url_for("web.book", pro=choice.pro.id, start=start, duration=choice.minutes)


# -- paying ----------------------------------------------------------------------------------


@web.route("/my/bookings/<uuid:booking_id>/pay", methods=["GET", "POST"], endpoint="pay")
@client_required
def pay(booking_id: UUID) -> Page:
    booking = own_booking(booking_id)
    if booking.status is not BookingStatus.PENDING or booking.payment_intent_id is None:
        return redirect(url_for("web.booking", booking_id=booking.id), code=303)
    payments = container().payments
    if isinstance(payments, SimulatedPayments):
        if request.method == "POST":
            return _pay_simulated(booking, payments)
        return _pay_page(booking, simulated=True)
    return _pay_page(booking, simulated=False, receipt=_receipt(booking))


def _pay_page(
    booking: Booking,
    *,
    simulated: bool,
    receipt: BookingReceipt | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Page:
    app = container()
    pro = catalogue.get_professional(booking.professional_id, uow=app.reader())
    hold_until = booking.created_at + timedelta(minutes=app.settings.hold_minutes)
    left = max(0, int((hold_until - app.clock.now()).total_seconds() // 60))
    g.stripe_page = not simulated  # Stripe's origins on this page only
    page = render_template(
        "web/pay.html",
        booking=booking,
        pro=pro,
        zone=visitor_zone(pro.time_zone),
        hold_until=hold_until,
        minutes_left=left,
        simulated=simulated,
        client_secret=receipt.client_secret if receipt is not None else None,
        publishable_key=app.settings.stripe_publishable_key,
        errors=errors or {},
    )
    return page, status


def _pay_simulated(booking: Booking, payments: SimulatedPayments) -> Page:
    number = re.sub(r"[\s-]", "", request.form.get("card_number", ""))[:32]
    errors = {}
    if number not in TEST_CARDS:
        errors["card_number"] = text.sentence("card_unknown")
    if not _EXPIRY.fullmatch(request.form.get("expiry", "").strip()):
        errors["expiry"] = text.sentence("card_expiry")
    if not _CVC.fullmatch(request.form.get("cvc", "").strip()):
        errors["cvc"] = text.sentence("card_cvc")
    if errors:
        return _pay_page(booking, simulated=True, errors=errors, status=422)
    try:
        # The signed webhook is delivered before this returns (or retried in the background).
        payments.pay(booking.payment_intent_id or "", TEST_CARDS[number])
    except PaymentUnavailable:  # the intent was forgotten (the demo restarted): it cannot pay
        errors["card_number"] = text.sentence("payment_unavailable")
        return _pay_page(booking, simulated=True, errors=errors, status=409)
    except ValueError:  # paid or cancelled meanwhile: the booking's page says which
        pass
    return redirect(url_for("web.booking", booking_id=booking.id), code=303)


def _receipt(booking: Booking) -> BookingReceipt:
    """The hold's receipt again (with the ``client_secret`` Stripe.js needs), by replaying the
    booking request with its own Idempotency-Key: nothing new is held or charged."""
    app = container()
    cmd = CreateBooking(client_id=booking.client_id, professional_id=booking.professional_id,
                        start=booking.start, duration=booking.end - booking.start,
                        idempotency_key=booking.idempotency_key or "")  # fmt: skip
    return services.create_booking(cmd, uow=app.uow(), payments=app.payments,
                                   idempotency=app.idempotency, clock=app.clock,
                                   limits=app.settings.hold_limits)  # fmt: skip

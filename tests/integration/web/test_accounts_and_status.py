"""Signing in without losing the chosen slot, errors beside their field, sign-ins ended from
the API's side, a booking page that follows its payment by itself, and pages without
JavaScript."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from adapters.payments.simulator import SimulatedPayments
from booking import services
from booking.model import BookingStatus
from entrypoints import accounts
from entrypoints.accounts import Role
from entrypoints.config import Environment, Settings
from entrypoints.web import sessions
from tests.integration.web.conftest import (
    WAIT_SECONDS,
    Browser,
    Site,
    new_email,
    register_account,
)
from tests.integration.web.test_booking_in_the_browser import first_slot_next_week, pay_with

PASSWORD = "web password 1234"  # noqa: S105 - a test account's


def hold_a_slot(site: Site, browser: Browser) -> str:
    """Register, pick next week's first slot and hold it; the new client's e-mail address."""
    pro = site.add_pro()
    browser.open(f"{site.url}/register")
    email = new_email()
    register_account(browser, email)
    browser.open(f"{site.url}/pros/{pro.id}")
    first_slot_next_week(browser)
    browser.click("#hold")
    WebDriverWait(browser.driver, WAIT_SECONDS).until(lambda d: "/pay" in d.current_url)
    return email


def test_signing_in_from_the_booking_page_keeps_the_chosen_slot(
    site: Site, browser: Browser
) -> None:
    pro = site.add_pro(name="Sina Signin")
    email = new_email()
    accounts.register(site.container, role=Role.CLIENT, email=email, password=PASSWORD,
                      name="Cleo")  # fmt: skip
    browser.open(f"{site.url}/pros/{pro.id}")
    first_slot_next_week(browser)
    chosen = browser.text(".summary")

    browser.click("main a.button.secondary")  # Sign in
    browser.fill("f-email", email)
    browser.fill("f-password", PASSWORD)
    browser.click("form.stack button[type=submit]")

    assert browser.text(".summary") == chosen
    assert browser.driver.find_element(By.ID, "hold").is_displayed()


def test_a_wrong_password_is_said_beside_the_password_field(site: Site, browser: Browser) -> None:
    browser.open(f"{site.url}/signin")
    browser.fill("f-email", new_email())
    browser.fill("f-password", "not the password")
    browser.click("form.stack button[type=submit]")

    browser.wait_for_text("main", "Wrong e-mail address")
    field = browser.driver.find_element(By.ID, "f-password")
    assert browser.text("#f-password-error") == "Wrong e-mail address or password."
    assert field.get_attribute("aria-invalid") == "true"
    assert "f-password-error" in str(field.get_attribute("aria-describedby"))


def test_a_short_password_is_said_beside_its_field_and_the_rest_is_kept(
    site: Site, browser: Browser
) -> None:
    browser.open(f"{site.url}/register")
    browser.fill("f-name", "Cleo Client")
    browser.fill("f-email", "cleo.short@example.com")
    browser.fill("f-password", "short")
    browser.click("form.stack button[type=submit]")

    assert browser.text("#f-password-error") == "Use a password of 10 to 256 characters."
    assert browser.driver.find_element(By.ID, "f-email").get_attribute("value") == (
        "cleo.short@example.com"
    )


def test_logging_out_everywhere_ends_the_web_sign_in_too(site: Site, browser: Browser) -> None:
    browser.open(f"{site.url}/register")
    email = new_email()
    register_account(browser, email)
    browser.open(f"{site.url}/my/bookings")
    assert browser.text("h1") == "My bookings"

    # What POST /auth/logout-all and a password reset do to the account's API tokens.
    site.container.revoked_tokens.revoke_all(site.client_id(email), datetime.now(UTC))
    browser.open(f"{site.url}/my/bookings")

    assert browser.text("h1") == "Sign in"


def test_the_booking_page_turns_confirmed_by_itself_when_the_webhook_lands(
    site: Site, browser: Browser
) -> None:
    email = hold_a_slot(site, browser)
    [booking] = site.bookings_of(site.client_id(email))
    browser.open(f"{site.url}/my/bookings/{booking.id}")
    assert "Waiting" in browser.text("#status")
    assert browser.driver.find_element(By.LINK_TEXT, "Refresh to see the latest status")

    payments = site.container.payments
    assert isinstance(payments, SimulatedPayments)
    payments.pay(booking.payment_intent_id or "", "pm_card_visa")  # as Stripe.js would

    assert "Confirmed" in browser.wait_for_text("#status", "Confirmed")


def test_the_booking_page_says_so_when_the_hold_expired(site: Site, browser: Browser) -> None:
    email = hold_a_slot(site, browser)
    app = site.container

    services.expire_holds(uow=app.uow(), payments=app.payments, clock=app.clock,
                          hold_time=timedelta(0))  # fmt: skip
    browser.open(browser.driver.current_url)  # the payment page sends them to the booking

    assert "The hold expired" in browser.text("#status")
    [booking] = site.bookings_of(site.client_id(email))
    assert booking.status is BookingStatus.CANCELLED


def test_searching_booking_paying_and_cancelling_work_without_javascript(
    site: Site, browser: Browser
) -> None:
    site.add_pro(name="Nora Noscript")
    browser.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.open(f"{site.url}/")
        Select(browser.driver.find_element(By.ID, "f-category")).select_by_value("massage")
        Select(browser.driver.find_element(By.ID, "f-place")).select_by_value("Berlin")
        browser.click("#search button[type=submit]")
        browser.click_link("Nora Noscript")
        zone_note = browser.text("#zone-note")
        first_slot_next_week(browser)
        browser.click("main a.button")
        email = new_email()
        register_account(browser, email)
        browser.click("#hold")
        pay_with(browser, "4242 4242 4242 4242")
        status = browser.text("#status")
        browser.click_link("Cancel")
        browser.click("#confirm-cancel")
        cancelled = browser.text("#status")
    finally:
        browser.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})

    assert "the professional's time zone, Europe/Berlin" in zone_note
    assert "Confirmed" in status
    assert "Cancelled" in cancelled
    [booking] = site.bookings_of(site.client_id(email))
    assert booking.status is BookingStatus.CANCELLED


def test_a_session_ends_30_minutes_after_the_last_page_and_12_hours_after_signing_in(
    site: Site, browser: Browser
) -> None:
    browser.open(f"{site.url}/register")
    register_account(browser, new_email())
    [cookie] = [c for c in browser.driver.get_cookies() if c["name"] == "hourbook_web"]
    lifetime = cookie["expiry"] - datetime.now(UTC).timestamp()
    assert 29 * 60 < lifetime <= 30 * 60  # refreshed by every page
    assert site.server is not None
    app = site.server.app
    assert isinstance(app, Flask)
    client = app.test_client()
    client.set_cookie(cookie["name"], cookie["value"], domain="localhost")
    assert b"<h1>My bookings</h1>" in client.get("/my/bookings").data

    with client.session_transaction() as session:
        session["since_us"] -= 12 * 3600 * 1_000_000 + 1

    assert b"<h1>My bookings</h1>" not in client.get("/my/bookings", follow_redirects=True).data


def test_my_bookings_lists_upcoming_bookings_with_an_ics_download(
    site: Site, browser: Browser
) -> None:
    hold_a_slot(site, browser)
    pay_with(browser, "4242 4242 4242 4242")
    browser.click_link("My bookings")

    upcoming = browser.text("section:first-of-type")
    link = browser.driver.find_element(By.LINK_TEXT, "Add to calendar (.ics)")
    path = str(link.get_attribute("href")).split(site.url, 1)[1]
    status, headers, body = site.fetch(path, cookie=browser.cookie_header())

    assert "Hanna Web" in upcoming and "confirmed" in upcoming
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in body and "Hanna Web (massage)" in body


def test_the_session_cookie_is_secure_outside_development_and_the_test_suite() -> None:
    def secure(env: Environment) -> bool:
        app = Flask(__name__)
        sessions.configure(app, Settings(env=env))
        return bool(app.config["SESSION_COOKIE_SECURE"])

    assert secure(Environment.PRODUCTION)
    assert not secure(Environment.DEVELOPMENT)
